<?php
// push.php - publish a WAMP event from PHP through Redis: every wamp1.h server joined to
// that Redis (build/demo --redis HOST:PORT) delivers it to its subscribers of the topic.
//
//   php push.php [--redis HOST:PORT] [--prefix wamp1:] [--exclude SID,...] [--eligible SID,...] TOPIC EVENT_JSON
//   php push.php http://wamp1.dev/topic/news '{"title": "saved"}'
//
// Needs php-cli and php-redis (Debian: apt-get install php-cli php-redis). The message is
// the plain JSON of port/wamp1_push.h on the channel PREFIX + TOPIC:
//   {"event": EVENT, "exclude": [...], "eligible": [...]}
// Prints the number of servers that received it (Redis PUBLISH's answer); exit 0, or 2 on
// bad arguments, 1 when Redis cannot be reached.

$opts = getopt("", ["redis:", "prefix:", "exclude:", "eligible:"], $rest);
$args = array_slice($argv, $rest);
if (count($args) != 2) {
    fwrite(STDERR, "usage: php push.php [--redis HOST:PORT] [--prefix P] [--exclude SID,...] [--eligible SID,...] TOPIC EVENT_JSON\n");
    exit(2);
}
[$topic, $eventText] = $args;
$event = json_decode($eventText);
if ($event === null && trim($eventText) !== "null") {
    fwrite(STDERR, "push.php: EVENT_JSON is not JSON\n");
    exit(2);
}
$msg = ["event" => $event];
foreach (["exclude", "eligible"] as $list) {
    if (isset($opts[$list])) $msg[$list] = $opts[$list] === "" ? [] : explode(",", $opts[$list]);
}
[$host, $port] = array_pad(explode(":", $opts["redis"] ?? "127.0.0.1:6379", 2), 2, "6379");
$prefix = $opts["prefix"] ?? "wamp1:";

try {
    $redis = new Redis();
    $redis->connect($host, (int)$port, 3.0);
    $password = getenv("REDIS_PASSWORD");
    if ($password !== false && $password !== "") $redis->auth($password);
    $receivers = $redis->publish($prefix . $topic, json_encode($msg, JSON_UNESCAPED_SLASHES));
} catch (RedisException $e) {
    fwrite(STDERR, "push.php: redis: " . $e->getMessage() . "\n");
    exit(1);
}
echo $receivers, "\n";
