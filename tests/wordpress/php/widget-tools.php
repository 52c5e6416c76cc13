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
    default:
        fwrite(STDERR, "unknown command: {$gardien_command}\n");
        exit(2);
}
