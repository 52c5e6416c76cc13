<?php

/**
 * Test driver of the privacy tests: runs one command of cli.php (`php privacy-cli.php COMMAND <
 * input.json`) with the service replaced for this process only. GARDIEN_TEST_SERVICE_URL (set,
 * possibly empty) replaces the service URL of wp-config.php: '' leaves the plugin unconfigured,
 * a URL points it at a stub server on 127.0.0.1, whose port is then allowed like the service's.
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

require __DIR__ . '/cli.php';
