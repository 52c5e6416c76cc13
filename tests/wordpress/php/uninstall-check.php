<?php

/**
 * Runs WordPress's own uninstall of Gardien (uninstall_plugin(), which includes uninstall.php)
 * in the database named by GARDIEN_TEST_DB, and prints what Gardien left before and after.
 */

require __DIR__ . '/bootstrap.php';
require $gardien_wp_dir . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
require_once ABSPATH . 'wp-admin/includes/file.php';

function gardien_leftovers(): array
{
    global $wpdb;
    return [
        'tables' => $wpdb->get_col("SHOW TABLES LIKE '%gardien%'"),
        'options' => $wpdb->get_col("SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE '%gardien%'"),
        'cron' => (bool) wp_next_scheduled('gardien_outbox_delivery'),
    ];
}

// Leave traces of normal use first: a visit, a queued message, a policy cache, a transient.
$gardien_settings = \Gardien\Settings::load();
(new \Gardien\VisitBuffer($gardien_settings))->add(['ts' => '2026-11-26T07:00:00Z', 'url' => home_url('/')]);
(new \Gardien\Outbox($gardien_settings))->enqueue('/v1/contact', ['name' => 'x', 'email' => 'x@example.fr', 'message' => 'x']);
update_option(\Gardien\Outbox::LAST_ERROR_OPTION, ['at' => time(), 'endpoint' => '/v1/contact', 'error' => 'network']);
update_option(\Gardien\Policy::CACHE_OPTION, ['fr' => ['fetched_at' => time(), 'policy' => []]]);
set_transient('gardien_policy_retry_fr', 1, 600);

$gardien_before = gardien_leftovers();
deactivate_plugins('gardien/gardien.php');
uninstall_plugin('gardien/gardien.php');
wp_cache_flush();
echo wp_json_encode(['before' => $gardien_before, 'after' => gardien_leftovers()]), "\n";
