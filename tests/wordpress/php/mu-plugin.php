<?php

/**
 * Must-use plugin of the test WordPress only: lets wp_safe_remote_* reach the Gardien service on
 * 127.0.0.1 and its port (refused by default as an internal address and an unusual port), and
 * writes mail to a file since there is no MTA. The port is written in by the harness.
 */

add_filter('http_request_host_is_external', function ($external, $host) {
    return $external || $host === '127.0.0.1';
}, 10, 2);

add_filter('http_allowed_safe_ports', function ($ports) {
    $ports[] = (int) GARDIEN_TEST_SERVICE_PORT;
    return $ports;
}, 10, 1);

add_filter('pre_wp_mail', function ($sent, $attributes) {
    file_put_contents(WP_CONTENT_DIR . '/mail.log', wp_json_encode($attributes) . "\n", FILE_APPEND);
    return true;
}, 10, 2);
