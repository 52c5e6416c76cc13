<?php

/**
 * Loads the WordPress named by the WP_LOAD environment variable (its wp-load.php), with Gardien
 * active in it, so the classes under test run with WordPress's real functions.
 */

$gardienWpLoad = getenv('WP_LOAD');
if (!$gardienWpLoad || !is_file($gardienWpLoad)) {
    fwrite(STDERR, "Set WP_LOAD to the wp-load.php of a WordPress where Gardien is active.\n");
    exit(1);
}
$_SERVER['HTTP_HOST'] = $_SERVER['HTTP_HOST'] ?? 'localhost';
$_SERVER['SERVER_NAME'] = $_SERVER['SERVER_NAME'] ?? 'localhost';
$_SERVER['REQUEST_URI'] = $_SERVER['REQUEST_URI'] ?? '/';
$_SERVER['REQUEST_METHOD'] = $_SERVER['REQUEST_METHOD'] ?? 'GET';
require $gardienWpLoad;

if (!class_exists(\Gardien\Plugin::class)) {
    fwrite(STDERR, "Gardien is not active in that WordPress.\n");
    exit(1);
}
