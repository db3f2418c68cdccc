<?php
// http_push.php - publish a WAMP event from PHP with one signed HTTP POST to a wamp1.h
// server's publisher (build/demo --publisher-secret SECRET; port/wamp1_publisher.h).
//
//   php http_push.php [--url http://127.0.0.1:8080/publish] (--secret S | --token T)
//                     [--exclude SID,...] [--eligible SID,...] TOPIC EVENT_JSON
//
// Plain php-cli (the http stream wrapper; no extension). The signature:
//   X-Wamp1-Signature = base64(HMAC-SHA256(secret, timestamp "\n" nonce "\n" body))
// Prints the answer's body ({"delivered": N}); exit 0 on 200, 1 on another status, 2 on
// bad arguments.

function wamp1_publish(string $url, array $msg, ?string $secret, ?string $token): array {
    $body = json_encode($msg, JSON_UNESCAPED_SLASHES);
    $headers = ["Content-Type: application/json"];
    if ($secret !== null) {
        $ts = (string)time();
        $nonce = bin2hex(random_bytes(16));
        $sig = base64_encode(hash_hmac("sha256", "$ts\n$nonce\n$body", $secret, true));
        array_push($headers, "X-Wamp1-Timestamp: $ts", "X-Wamp1-Nonce: $nonce", "X-Wamp1-Signature: $sig");
    } else {
        $headers[] = "Authorization: Bearer $token";
    }
    $ctx = stream_context_create(["http" => ["method" => "POST", "protocol_version" => 1.1, "header" => implode("\r\n", $headers),
                                             "content" => $body, "ignore_errors" => true, "timeout" => 5]]);
    $answer = @file_get_contents($url, false, $ctx);
    $status = isset($http_response_header[0]) && preg_match('#^HTTP/\S+ (\d{3})#', $http_response_header[0], $m)
            ? (int)$m[1] : 0;
    return [$status, $answer === false ? "" : $answer];
}

$opts = getopt("", ["url:", "secret:", "token:", "exclude:", "eligible:"], $rest);
$args = array_slice($argv, $rest);
if (count($args) != 2 || (!isset($opts["secret"]) && !isset($opts["token"]))) {
    fwrite(STDERR, "usage: php http_push.php [--url URL] (--secret S | --token T) [--exclude SID,...] [--eligible SID,...] TOPIC EVENT_JSON\n");
    exit(2);
}
[$topic, $eventText] = $args;
$event = json_decode($eventText);
if ($event === null && trim($eventText) !== "null") {
    fwrite(STDERR, "http_push.php: EVENT_JSON is not JSON\n");
    exit(2);
}
$msg = ["topic" => $topic, "event" => $event];
foreach (["exclude", "eligible"] as $list) {
    if (isset($opts[$list])) $msg[$list] = $opts[$list] === "" ? [] : explode(",", $opts[$list]);
}
[$status, $answer] = wamp1_publish($opts["url"] ?? "http://127.0.0.1:8080/publish", $msg,
                                   $opts["secret"] ?? null, $opts["token"] ?? null);
echo $answer, "\n";
exit($status == 200 ? 0 : 1);
