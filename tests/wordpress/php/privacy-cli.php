<?php

/**
 * Test driver of the privacy tests: runs one command of cli.php (`php privacy-cli.php COMMAND <
 * input.json`) with the service replaced for this process only. GARDIEN_TEST_SERVICE_URL (set,
 * possibly empty) replaces the service URL of wp-config.php: '' leaves the plugin unconfigured,
 * a URL points it at a stub server on 127.0.0.1, whose port is then allowed like the service's.
 *
 * Its own commands:
 * - request-form-page: the id of a published page holding `content` (created once per content).
 * - user-requests: core's privacy requests for `email` (id, action, status), newest first.
 */

$gardien_privacy_url = getenv('GARDIEN_TEST_SERVICE_URL');
if ($gardien_privacy_url !== false) {
    define('GARDIEN_SERVICE_URL', $gardien_privacy_url);
    $gardien_privacy_port = (int) parse_url($gardien_privacy_url, PHP_URL_PORT);
    if ($gardien_privacy_port > 0) {
        // Before WordPress loads: a hook given the way wp-settings.php takes preinitialised ones.
        $GLOBALS['wp_filter']['http_allowed_safe_ports'][10][] = [
            'function' => static function ($ports) use ($gardien_privacy_port) {
                $ports[] = $gardien_privacy_port;
                return $ports;
            },
            'accepted_args' => 1,
        ];
    }
}

if (!in_array($argv[1] ?? '', ['request-form-page', 'user-requests'], true)) {
    require __DIR__ . '/cli.php';
}

require __DIR__ . '/bootstrap.php';
require $gardien_wp_dir . '/wp-load.php';
$gardien_input = json_decode((string) stream_get_contents(STDIN), true) ?: [];

if ($argv[1] === 'request-form-page') {
    $gardien_content = (string) $gardien_input['content'];
    $gardien_title = 'Privacy request ' . md5($gardien_content);
    $gardien_found = get_posts(['post_type' => 'page', 'title' => $gardien_title, 'fields' => 'ids']);
    $gardien_page = $gardien_found[0] ?? wp_insert_post([
        'post_type' => 'page',
        'post_status' => 'publish',
        'post_title' => $gardien_title,
        'post_content' => $gardien_content,
    ]);
    echo wp_json_encode(['id' => (int) $gardien_page]), "\n";
    exit(0);
}

$gardien_requests = [];
foreach (
    get_posts([
        'post_type' => 'user_request',
        'post_status' => ['request-pending', 'request-confirmed', 'request-failed', 'request-completed'],
        'title' => (string) $gardien_input['email'],
        'numberposts' => -1,
    ]) as $gardien_post
) {
    $gardien_requests[] = ['id' => $gardien_post->ID, 'action' => $gardien_post->post_name, 'status' => $gardien_post->post_status];
}
echo wp_json_encode($gardien_requests), "\n";
