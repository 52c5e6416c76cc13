<?php

/**
 * Test driver for the page-view and off-path tests: `php views-tools.php COMMAND < input.json`
 * runs one command inside the test WordPress and prints a JSON answer.
 *
 * - policy-fetched: when the cached policy was fetched, per language.
 * - add-old-visits: `count` page views with an address and a user agent, buffered `age` seconds
 *   ago (the row's time and the event's time), as if cron had not run since.
 * - queue-batch: a batch of `count` page views with an address and a user agent, seen `age`
 *   seconds ago, waiting in the outbox since then (as when the service was down all along);
 *   `attempts` delivery attempts already made (0 by default).
 * - buffer: the visit buffer's rows, opened with the plugin's key, oldest first.
 * - flush-visits: the cron run's move of the buffer into the outbox (with the cap and aging).
 * - deliver: the delivery event (flush, then send), recording every request the plugin sends
 *   (URL, body as sent, status of the real service's answer) through http_api_debug.
 * With `max_rows`, the gardien_visit_buffer_max_rows filter returns it for this process.
 */

require __DIR__ . '/bootstrap.php';
require $gardien_wp_dir . '/wp-load.php';

$gardien_command = $argv[1] ?? '';
$gardien_input = json_decode((string) stream_get_contents(STDIN), true) ?: [];

/** @param mixed $value */
function gardien_views_answer($value): void
{
    echo wp_json_encode($value), "\n";
    exit(0);
}

if (isset($gardien_input['max_rows'])) {
    add_filter('gardien_visit_buffer_max_rows', fn () => (int) $gardien_input['max_rows']);
}

switch ($gardien_command) {
    case 'policy-fetched':
        $gardien_cache = (array) get_option(\Gardien\Policy::CACHE_OPTION, []);
        gardien_views_answer(array_map(fn ($entry) => (int) ($entry['fetched_at'] ?? 0), $gardien_cache));
        // No break: the answer exits.
    case 'add-old-visits':
        global $wpdb;
        $gardien_buffer = new \Gardien\VisitBuffer(\Gardien\Settings::load());
        $gardien_at = time() - (int) $gardien_input['age'];
        $gardien_tag = (string) ($gardien_input['tag'] ?? 'old');
        for ($i = 0; $i < (int) $gardien_input['count']; $i++) {
            $gardien_buffer->add([
                'ts' => gmdate('Y-m-d\TH:i:s\Z', $gardien_at),
                'url' => home_url('/?' . $gardien_tag . '=' . $i),
                'ip' => '203.0.113.' . ($i % 250),
                'user_agent' => 'Mozilla/5.0 Old',
            ]);
            $wpdb->update(
                \Gardien\VisitBuffer::table(),
                ['created_at' => \Gardien\Outbox::now($gardien_at)],
                ['id' => (int) $wpdb->insert_id]
            );
        }
        gardien_views_answer(['visits' => \Gardien\VisitBuffer::count()]);
    case 'queue-batch':
        global $wpdb;
        $gardien_at = time() - (int) $gardien_input['age'];
        $gardien_events = [];
        for ($i = 0; $i < (int) $gardien_input['count']; $i++) {
            $gardien_events[] = [
                'ts' => gmdate('Y-m-d\TH:i:s\Z', $gardien_at),
                'url' => home_url('/?' . (string) $gardien_input['tag'] . '=' . $i),
                'ip' => '198.51.100.' . ($i % 250),
                'user_agent' => 'Mozilla/5.0 Waiting',
            ];
        }
        $gardien_id = (new \Gardien\Outbox(\Gardien\Settings::load()))
            ->enqueue(\Gardien\Outbox::STATS_ENDPOINT, ['events' => $gardien_events]);
        $wpdb->update(\Gardien\Outbox::table(), [
            'created_at' => \Gardien\Outbox::now($gardien_at),
            'attempts' => (int) ($gardien_input['attempts'] ?? 0),
        ], ['id' => $gardien_id]);
        gardien_views_answer(['id' => $gardien_id]);
    case 'buffer':
        global $wpdb;
        $gardien_cipher = \Gardien\Cipher::fromSecret(GARDIEN_WEBHOOK_SECRET);
        $gardien_rows = [];
        foreach ($wpdb->get_results('SELECT * FROM ' . \Gardien\VisitBuffer::table() . ' ORDER BY id', ARRAY_A) as $row) {
            $gardien_rows[] = ['created_at' => $row['created_at'], 'event' => json_decode((string) $gardien_cipher->open($row['payload']), true)];
        }
        gardien_views_answer($gardien_rows);
    case 'flush-visits':
        $gardien_settings = \Gardien\Settings::load();
        gardien_views_answer(['batches' => (new \Gardien\VisitBuffer($gardien_settings))->flush(new \Gardien\Outbox($gardien_settings))]);
    case 'deliver':
        $gardien_sent = [];
        add_action('http_api_debug', function ($response, $context, $class, $args, $url) use (&$gardien_sent) {
            $gardien_sent[] = [
                'url' => $url,
                'body' => json_decode((string) ($args['body'] ?? ''), true),
                'status' => is_wp_error($response) ? 0 : (int) wp_remote_retrieve_response_code($response),
            ];
        }, 10, 5);
        do_action(\Gardien\Outbox::CRON_HOOK);
        gardien_views_answer($gardien_sent);
    default:
        fwrite(STDERR, "unknown command: {$gardien_command}\n");
        exit(2);
}
