<?php

/**
 * Test driver for the dashboard widget's tests: `php widget-tools.php COMMAND < input.json` runs
 * one command inside the test WordPress and prints a JSON answer.
 *
 * - cache: the cached visits summary (the option as stored, or null).
 * - forget: no cached summary, no retry pause, no refresh asked for: as never fetched.
 * - age: the cached summary was fetched (and last attempted) `seconds` earlier than it was.
 * - asked: whether a screen asked WP-Cron for a refresh (the single `stale` event).
 * - editor: an Editor account (`login`, `password`) for the capability check.
 * - remove: fetch the summary, ask for a refresh, then deactivate and uninstall the plugin
 *   (run it on a database of its own): what of the widget's was there before and after each.
 */

require __DIR__ . '/bootstrap.php';
require $gardien_wp_dir . '/wp-load.php';

$gardien_command = $argv[1] ?? '';
$gardien_input = json_decode((string) stream_get_contents(STDIN), true) ?: [];

/** @param mixed $value */
function gardien_widget_answer($value): void
{
    echo wp_json_encode($value), "\n";
    exit(0);
}

switch ($gardien_command) {
    case 'cache':
        gardien_widget_answer(get_option(\Gardien\VisitsSummary::OPTION, null));
        // No break: the answer exits.
    case 'forget':
        delete_option(\Gardien\VisitsSummary::OPTION);
        delete_transient('gardien_visits_summary_retry');
        wp_clear_scheduled_hook(\Gardien\VisitsSummary::REFRESH_HOOK, ['stale']);
        gardien_widget_answer(['ok' => true]);
    case 'age':
        $gardien_cache = get_option(\Gardien\VisitsSummary::OPTION);
        foreach (['fetched_at', 'attempted_at'] as $gardien_key) {
            $gardien_cache[$gardien_key] -= (int) $gardien_input['seconds'];
        }
        update_option(\Gardien\VisitsSummary::OPTION, $gardien_cache, false);
        gardien_widget_answer(['ok' => true]);
    case 'asked':
        gardien_widget_answer(['stale' => (bool) wp_next_scheduled(\Gardien\VisitsSummary::REFRESH_HOOK, ['stale'])]);
    case 'editor':
        $gardien_user = get_user_by('login', (string) $gardien_input['login']);
        if (!$gardien_user) {
            wp_insert_user([
                'user_login' => (string) $gardien_input['login'],
                'user_pass' => (string) $gardien_input['password'],
                'user_email' => $gardien_input['login'] . '@example.org',
                'role' => 'editor',
            ]);
        }
        gardien_widget_answer(['ok' => true]);
    case 'remove':
        require_once ABSPATH . 'wp-admin/includes/plugin.php';
        require_once ABSPATH . 'wp-admin/includes/file.php';
        $gardien_traces = static fn (): array => [
            'cache' => get_option(\Gardien\VisitsSummary::OPTION) !== false,
            'hourly' => (bool) wp_next_scheduled(\Gardien\VisitsSummary::REFRESH_HOOK),
            'stale' => (bool) wp_next_scheduled(\Gardien\VisitsSummary::REFRESH_HOOK, ['stale']),
        ];
        (new \Gardien\VisitsSummary(\Gardien\Settings::load()))->refresh();
        \Gardien\Outbox::runSoon(\Gardien\VisitsSummary::REFRESH_HOOK, ['stale']);
        $gardien_before = $gardien_traces();
        deactivate_plugins('gardien/gardien.php');
        $gardien_deactivated = $gardien_traces();
        uninstall_plugin('gardien/gardien.php');
        wp_cache_flush();
        gardien_widget_answer([
            'before' => $gardien_before,
            'deactivated' => $gardien_deactivated,
            'uninstalled' => $gardien_traces(),
        ]);
    default:
        fwrite(STDERR, "unknown command: {$gardien_command}\n");
        exit(2);
}
