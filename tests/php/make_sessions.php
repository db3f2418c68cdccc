<?php
// Writes real PHP session files with PHP's own session machinery, for tests/test_mw.c.
// Usage: php make_sessions.php OUTDIR
// For every session it writes OUTDIR/sess_<id> (by session_write_close) and, when the
// session must load, OUTDIR/<id>.json: the expected JSON of the whole session (PHP arrays
// whose keys are 0..n-1 in order become JSON arrays, other arrays objects with string keys,
// INF and NAN null, invalid UTF-8 replaced by U+FFFD). OUTDIR/manifest.txt lists one
// session a line: "<id> <php|php_serialize> <valid|invalid>".

if ($argc < 2) { fwrite(STDERR, "usage: php make_sessions.php OUTDIR\n"); exit(2); }
$dir = $argv[1];
ini_set('session.use_cookies', '0');
ini_set('session.use_only_cookies', '0');
ini_set('session.use_strict_mode', '0');
ini_set('session.cache_limiter', '');
ini_set('session.gc_probability', '0');
ini_set('session.lazy_write', '0');
session_save_path($dir);

enum Suit { case Hearts; }

// Invalid UTF-8 is replaced the Unicode way ("maximal subparts", as browsers decode):
// each longest prefix of a valid sequence, or else each single bad byte, becomes one
// U+FFFD. (PHP's own JSON_INVALID_UTF8_SUBSTITUTE differs on overlong forms and
// surrogates, which it replaces whole.)
function scrub($s) {
    $valid = '[\x00-\x7F]|[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}'
           . '|\xED[\x80-\x9F][\x80-\xBF]|\xF0[\x90-\xBF][\x80-\xBF]{2}|[\xF1-\xF3][\x80-\xBF]{3}|\xF4[\x80-\x8F][\x80-\xBF]{2}';
    $part = '\xE0[\xA0-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]|\xED[\x80-\x9F]|\xF0[\x90-\xBF][\x80-\xBF]?'
          . '|[\xF1-\xF3][\x80-\xBF]{1,2}|\xF4[\x80-\x8F][\x80-\xBF]?|[\x00-\xFF]';
    return preg_replace_callback("/($valid)|(?:$part)/", function ($m) {
        return isset($m[1]) && $m[1] !== '' ? $m[1] : "\u{FFFD}";
    }, $s);
}

function enc($v, $top = false) {
    if (is_array($v)) {
        if (!$top && array_is_list($v)) return '[' . implode(',', array_map('enc', $v)) . ']';
        $p = [];
        foreach ($v as $k => $x) $p[] = enc((string)$k) . ':' . enc($x);
        return '{' . implode(',', $p) . '}';
    }
    if (is_float($v) && !is_finite($v)) return 'null';
    if (is_string($v)) $v = scrub($v);
    $j = json_encode($v, JSON_INVALID_UTF8_SUBSTITUTE | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    if ($j === false) { fwrite(STDERR, "json_encode failed\n"); exit(1); }
    return $j;
}

$manifest = '';
function save($id, $handler, $vars, $valid = true, $byref = false) {
    global $dir, $manifest;
    ini_set('session.serialize_handler', $handler);
    session_id($id);
    if (!session_start()) { fwrite(STDERR, "session_start failed for $id\n"); exit(1); }
    $_SESSION = [];
    if ($byref) foreach ($vars as $k => &$v) $_SESSION[$k] = &$v;
    else foreach ($vars as $k => $v) $_SESSION[$k] = $v;
    if (!session_write_close()) { fwrite(STDERR, "session_write_close failed for $id\n"); exit(1); }
    if ($valid) file_put_contents("$dir/$id.json", enc($vars, true));
    $manifest .= "$id $handler " . ($valid ? 'valid' : 'invalid') . "\n";
}

$scalars = [
    'str' => 'hello',
    'empty' => '',
    'quotes' => "a\"b'c\\d",
    'utf8' => "h\u{e9}llo \u{20ac} \u{1d11e} \u{4e2d}\u{6587}",
    'nul' => "a\0b",
    'pipe' => 'x|y|z',
    'syntax' => '";}{a:1:{s:1:"x";N;}|i:5;',
    'newline' => "line1\nline2\ttab\r\x01",
    'int0' => 0,
    'int_neg' => -1,
    'int_max' => PHP_INT_MAX,
    'int_min' => PHP_INT_MIN,
    'f01' => 0.1,
    'f1e300' => 1e300,
    'fneg0' => -0.0,
    'finf' => INF,
    'fninf' => -INF,
    'fnan' => NAN,
    'fsmall' => 1.5e-7,
    'fbig' => 1e25,
    'ffrac' => 123456789.125,
    'fwhole' => 3.0,
    'fmin' => 2.2250738585072014E-308,
    'fdenorm' => 5e-324,
    'fmax' => 1.7976931348623157E+308,
    'fpi' => -3.141592653589793,
    'true' => true,
    'false' => false,
    'null' => null,
];
$arrays = [
    'list' => [1, 2, 3],
    'empty' => [],
    'map' => ['a' => 1, 'b' => 'two'],
    'gap' => [0 => 'a', 2 => 'b'],
    'order' => [1 => 'a', 0 => 'b'],
    'from1' => [1 => 'x', 2 => 'y'],
    'negkey' => [-5 => 'n', 'k' => PHP_INT_MIN],
    'numstr' => ['0' => 'zero', '1' => 'one'],
    'mixed' => [0 => 'a', 'x' => 'b'],
    'nested' => ['l' => [[1, [2, [3, ['deep' => [true, null, 1.5]]]]]], 'm' => ['x' => ['y' => ['z' => []]]]],
    'listofmaps' => [['id' => 1, 'name' => 'a'], ['id' => 2, 'name' => "b\0"]],
    'bigkey' => [PHP_INT_MAX => 1, PHP_INT_MIN => 2],
    'strings' => ['a|b' => '|', '' => 'emptykey', "\u{e9}" => "\u{e9}"],
];
// 29 arrays below the session: 30 levels, the reader's default limit
$deep = 'leaf';
for ($i = 0; $i < 29; $i++) $deep = [$deep];
$arrays['deep29'] = $deep;
$badutf8 = [
    'ff' => "a\xffb",
    'trunc2' => "abc\xc3",
    'trunc3' => "\xe2\x82",
    'overlong' => "\xc0\xaf",
    'overlong3' => "\xe0\x80\xaf",
    'surrogate' => "\xed\xa0\x80",
    'toobig' => "\xf4\x90\x80\x80",
    'lonecont' => "\x80\x80x",
    'mixed' => "ok\xe2\x82\xac\xe2\x82x\xf0\x9f\x98",
];
$keys = [
    'key with spaces' => 1,
    "\u{43a}\u{43b}\u{44e}\u{447}" => 2,
    'a;b{c}' => 3,
    's:1:"x";' => 4,
    'N;' => 5,
];

foreach (['php', 'php_serialize'] as $h) {
    $t = $h === 'php' ? 'p' : 's';
    save("scalars-$t", $h, $scalars);
    save("arrays-$t", $h, $arrays);
    save("badutf8-$t", $h, $badutf8);
    save("keys-$t", $h, $keys);
    save("empty-$t", $h, []);
    save("one-$t", $h, ['only' => 'value']);
    save("obj-$t", $h, ['a' => 1, 'o' => new stdClass()], false);
    $r = [1, 2];
    save("ref-$t", $h, ['a' => &$r, 'b' => &$r], false, true);
    save("enum-$t", $h, ['e' => Suit::Hearts], false);
    save("nestedobj-$t", $h, ['a' => ['b' => [new ArrayObject([1])]]], false);
    save("toodeep-$t", $h, ['d' => [$deep]], false);
}
// php_serialize only: int keys at the top level (the php handler skips them)
save('intkeys-s', 'php_serialize', [0 => 'a', 1 => 'b', 'k' => 'c']);
save('listtop-s', 'php_serialize', [0 => 'a', 1 => 'b']);
file_put_contents("$dir/manifest.txt", $manifest);
