<?php

/**
 * Loads the test WordPress from the command line, as a request to its home page would.
 * WP_DIR (environment) is the private WordPress copy. GARDIEN_TEST_SECRET, when set, replaces
 * the webhook secret of wp-config.php for this process (to provoke a 401). GARDIEN_TEST_PATH,
 * when set, is the path of the request (`/site2/`: that site of a multisite network).
 */

$gardien_wp_dir = getenv('WP_DIR');
if (!$gardien_wp_dir || !is_file($gardien_wp_dir . '/wp-load.php')) {
    fwrite(STDERR, "WP_DIR must point to the test WordPress\n");
    exit(2);
}
$gardien_home = parse_url((string) getenv('WP_URL') ?: 'http://127.0.0.1/');
$_SERVER['HTTP_HOST'] = $gardien_home['host'] . (isset($gardien_home['port']) ? ':' . $gardien_home['port'] : '');
$_SERVER['SERVER_NAME'] = $gardien_home['host'];
$_SERVER['SERVER_PORT'] = (string) ($gardien_home['port'] ?? 80);
$_SERVER['REQUEST_URI'] = getenv('GARDIEN_TEST_PATH') ?: '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REMOTE_ADDR'] = getenv('GARDIEN_TEST_REMOTE_ADDR') ?: '198.51.100.23';
if (getenv('GARDIEN_TEST_SECRET')) {
    define('GARDIEN_WEBHOOK_SECRET', getenv('GARDIEN_TEST_SECRET'));
}
