<?php

/**
 * Test driver: `php cli.php COMMAND < input.json` runs one command inside the test WordPress
 * and prints a JSON answer. It plays the parts the tests cannot play over HTTP: a form plugin
 * calling its hook, time passing, WP-Cron, a look into the outbox table.
 */

require __DIR__ . '/bootstrap.php';
require $gardien_wp_dir . '/wp-load.php';
require __DIR__ . '/form-plugin-stubs.php';

$gardien_command = $argv[1] ?? '';
$gardien_input = json_decode((string) stream_get_contents(STDIN), true) ?: [];

/** @param mixed $value */
function gardien_answer($value): void
{
    echo wp_json_encode($value), "\n";
    exit(0);
}

switch ($gardien_command) {
    case 'outbox':
        global $wpdb;
        gardien_answer([
            'rows' => $wpdb->get_results('SELECT * FROM ' . \Gardien\Outbox::table() . ' ORDER BY id', ARRAY_A),
            'summary' => \Gardien\Outbox::summary(),
            'visits' => \Gardien\VisitBuffer::count(),
        ]);
        // No break: gardien_answer() exits.
    case 'open-outbox':
        // The sealed payloads, opened with the plugin's key: what the service would receive.
        global $wpdb;
        $cipher = \Gardien\Cipher::fromSecret(GARDIEN_WEBHOOK_SECRET);
        $opened = [];
        foreach ($wpdb->get_results('SELECT * FROM ' . \Gardien\Outbox::table() . ' ORDER BY id', ARRAY_A) as $row) {
            $raw = (string) $cipher->open($row['payload']);
            $opened[] = ['endpoint' => $row['endpoint'], 'raw' => $raw, 'body' => json_decode($raw, true)];
        }
        gardien_answer($opened);
    case 'reset':
        global $wpdb;
        $wpdb->query('DELETE FROM ' . \Gardien\Outbox::table());
        $wpdb->query('DELETE FROM ' . \Gardien\VisitBuffer::table());
        delete_option(\Gardien\Outbox::LAST_ERROR_OPTION);
        delete_option(\Gardien\Outbox::LAST_DELIVERY_OPTION);
        delete_option(\Gardien\FormCapture::SKIPPED_OPTION);
        delete_option(\Gardien\Policy::CACHE_OPTION);
        update_option('WPLANG', '');
        $wpdb->query("DELETE FROM {$wpdb->options} WHERE option_name LIKE '%transient%gardien%'");
        update_option(\Gardien\Settings::OPTION, array_merge(\Gardien\Settings::defaults(), $gardien_input));
        gardien_answer(['ok' => true]);
    case 'settings':
        update_option(\Gardien\Settings::OPTION, array_merge(\Gardien\Settings::load()->toArray(), $gardien_input));
        gardien_answer(['ok' => true]);
    case 'travel':
        // Time passes: every due date (outbox rows, cron events) moves back by `seconds`.
        global $wpdb;
        $seconds = (int) $gardien_input['seconds'];
        $wpdb->query($wpdb->prepare(
            'UPDATE ' . \Gardien\Outbox::table() . ' SET next_attempt_at = next_attempt_at - INTERVAL %d SECOND,
             created_at = created_at - INTERVAL %d SECOND',
            $seconds,
            $seconds
        ));
        $crons = _get_cron_array();
        $moved = [];
        foreach ($crons as $timestamp => $events) {
            $moved[$timestamp - $seconds] = $events;
        }
        _set_cron_array($moved);
        gardien_answer(['ok' => true]);
    case 'cf7':
        WPCF7_ContactForm::$features += (array) ($gardien_input['tag_features'] ?? []);
        $form = new WPCF7_ContactForm((int) ($gardien_input['id'] ?? 7), (array) ($gardien_input['tags'] ?? []), (array) ($gardien_input['settings'] ?? []));
        WPCF7_Submission::$instance = new WPCF7_Submission((array) $gardien_input['posted'], (array) ($gardien_input['meta'] ?? []));
        $_SERVER['HTTP_REFERER'] = home_url('/contact-cf7/');
        do_action('wpcf7_submit', $form, ['status' => $gardien_input['status'] ?? 'mail_sent']);
        gardien_answer(['ok' => true]);
    case 'wpforms':
        // WPForms keeps its global settings (GDPR enhancements included) in this option.
        update_option('wpforms_settings', (array) ($gardien_input['wpforms_settings'] ?? []));
        $_SERVER['HTTP_REFERER'] = home_url('/contact-wpforms/');
        do_action('wpforms_process_complete', (array) $gardien_input['fields'], [], ['id' => 12] + (array) ($gardien_input['form_data'] ?? []), 34);
        gardien_answer(['ok' => true]);
    case 'gravityforms':
        $_SERVER['HTTP_REFERER'] = home_url('/contact-gf/');
        do_action('gform_after_submission', (array) $gardien_input['entry'], ['id' => 3, 'fields' => (array) $gardien_input['fields']] + (array) ($gardien_input['form'] ?? []));
        gardien_answer(['ok' => true]);
    case 'add-visits':
        $buffer = new \Gardien\VisitBuffer(\Gardien\Settings::load());
        for ($i = 0; $i < (int) $gardien_input['count']; $i++) {
            $buffer->add(['ts' => gmdate('Y-m-d\TH:i:s\Z'), 'url' => home_url('/?p=' . $i), 'ip' => '203.0.113.' . ($i % 250)]);
        }
        gardien_answer(['visits' => \Gardien\VisitBuffer::count()]);
    case 'privacy-request':
        // A confirmed request, as after the person clicked the link of WordPress's e-mail.
        require_once ABSPATH . 'wp-admin/includes/admin.php';
        $type = $gardien_input['type'];
        $exporters = apply_filters($type === 'export_personal_data' ? 'wp_privacy_personal_data_exporters' : 'wp_privacy_personal_data_erasers', []);
        $id = wp_create_user_request($gardien_input['email'], $type, [], 'confirmed');
        gardien_answer(['request_id' => $id, 'index' => array_search('gardien', array_keys($exporters), true) + 1]);
    case 'export-personal-data':
        // Tools → Export Personal Data without the browser: every exporter, page after page, as
        // wp_ajax_wp_privacy_export_personal_data() calls it, each page through the
        // wp_privacy_personal_data_export_page filter (which writes the ZIP after the last one).
        require_once ABSPATH . 'wp-admin/includes/admin.php';
        $email = $gardien_input['email'];
        $request_id = wp_create_user_request($email, 'export_personal_data', [], 'confirmed');
        if (is_wp_error($request_id)) {
            gardien_answer(['error' => $request_id->get_error_code(), 'message' => $request_id->get_error_message()]);
        }
        $calls = [];
        $index = 0;
        foreach (apply_filters('wp_privacy_personal_data_exporters', []) as $key => $exporter) {
            $index++;
            for ($page = 1; $page <= 20; $page++) {
                $response = call_user_func($exporter['callback'], $email, $page);
                if (is_wp_error($response)) {
                    gardien_answer(['error' => $response->get_error_code(), 'message' => $response->get_error_message(), 'calls' => $calls]);
                }
                $calls[] = ['exporter' => $key, 'page' => $page, 'items' => count($response['data']), 'done' => $response['done']];
                $response = apply_filters('wp_privacy_personal_data_export_page', $response, $index, $email, $page, $request_id, false, $key);
                if ($response['done']) {
                    break;
                }
            }
        }
        $file = get_post_meta($request_id, '_export_file_name', true);
        gardien_answer([
            'calls' => $calls,
            'zip' => $file ? wp_privacy_exports_dir() . $file : null,
            'url' => $response['url'] ?? null,
        ]);
    case 'erase-personal-data':
        // Tools → Erase Personal Data without the browser: every eraser, page after page, each page
        // through the wp_privacy_personal_data_erasure_page filter, collecting what the screen shows.
        require_once ABSPATH . 'wp-admin/includes/admin.php';
        $email = $gardien_input['email'];
        $request_id = wp_create_user_request($email, 'remove_personal_data', [], 'confirmed');
        if (is_wp_error($request_id)) {
            gardien_answer(['error' => $request_id->get_error_code(), 'message' => $request_id->get_error_message()]);
        }
        $calls = [];
        $index = 0;
        foreach (apply_filters('wp_privacy_personal_data_erasers', []) as $key => $eraser) {
            $index++;
            for ($page = 1; $page <= 20; $page++) {
                $response = call_user_func($eraser['callback'], $email, $page);
                if (is_wp_error($response)) {
                    gardien_answer(['error' => $response->get_error_code(), 'message' => $response->get_error_message(), 'calls' => $calls]);
                }
                $response = apply_filters('wp_privacy_personal_data_erasure_page', $response, $index, $email, $page, $request_id, $key);
                $calls[] = ['eraser' => $key, 'page' => $page] + $response;
                if ($response['done']) {
                    break;
                }
            }
        }
        gardien_answer(['calls' => $calls, 'status' => wp_get_user_request($request_id)->status]);
    case 'age-policy-cache':
        // The cached policy was fetched `seconds` earlier than it was.
        $cache = get_option(\Gardien\Policy::CACHE_OPTION, []);
        foreach ($cache as $language => $entry) {
            $cache[$language]['fetched_at'] -= (int) $gardien_input['seconds'];
        }
        update_option(\Gardien\Policy::CACHE_OPTION, $cache, false);
        gardien_answer(['languages' => array_keys($cache)]);
    case 'transient':
        gardien_answer(['value' => get_transient((string) $gardien_input['name'])]);
    case 'site-language':
        update_option('WPLANG', (string) $gardien_input['locale']);
        gardien_answer(['ok' => true]);
    case 'render-form':
        if (!empty($gardien_input['locale'])) {
            switch_to_locale($gardien_input['locale']);
        }
        gardien_answer(['html' => do_shortcode('[gardien_contact]')]);
    case 'flush-visits':
        $settings = \Gardien\Settings::load();
        gardien_answer(['batches' => (new \Gardien\VisitBuffer($settings))->flush(new \Gardien\Outbox($settings))]);
    default:
        fwrite(STDERR, "unknown command: {$gardien_command}\n");
        exit(2);
}
