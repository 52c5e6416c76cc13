<?php

/** Runs the test WordPress's wp-cron.php from the command line, like a system crontab would. */

require __DIR__ . '/bootstrap.php';
$_SERVER['REQUEST_URI'] = (getenv('GARDIEN_TEST_PATH') ?: '/') . 'wp-cron.php';
require $gardien_wp_dir . '/wp-cron.php';
