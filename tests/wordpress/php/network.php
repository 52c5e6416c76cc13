<?php

/**
 * Test driver of the multisite tests: `php network.php COMMAND < input.json` runs one command in
 * the test network, on the site of the request path GARDIEN_TEST_PATH (`/` the main site,
 * `/site2/` ...), and prints a JSON answer. What a super admin does in Network Admin, without it.
 *
 * - setup (with GARDIEN_TEST_SETUP=1, wp-config.php then leaves MULTISITE out): install
 *   WordPress in the empty database and turn it into a subdirectory network, as
 *   Network Setup does (install_network(), populate_network()).
 * - create-site {slug}: a new site at /slug/ (wp_insert_site(), which fires wp_initialize_site).
 * - delete-site {id}: wp_delete_site(), as Network Admin → Sites → Delete.
 * - activate / deactivate {network}: Gardien for the whole network (or this site only).
 * - uninstall: Network Admin → Plugins → Delete (deactivation first, then uninstall.php).
 * - state: for every site, Gardien's tables, options and cron events; the network options.
 * - signing {filtered?}: the Gardien site and secret this site signs with (with `filtered`, as
 *   the gardien_site_id and gardien_webhook_secret filters of a must-use plugin decide).
 * - export {email}: the Gardien personal data exporter of this site, page 1.
 * - traces: leave traces of use on this site (a visit, a queued message, an option, a transient).
 */

require __DIR__ . '/bootstrap.php';
$gardien_command = $argv[1] ?? '';
$gardien_input = json_decode((string) stream_get_contents(STDIN), true) ?: [];
if ($gardien_command === 'setup') {
    define('WP_INSTALLING', true);
}
require $gardien_wp_dir . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/admin.php';

/** @param mixed $value */
function gardien_answer($value): void
{
    echo wp_json_encode($value), "\n";
    exit(0);
}

/** Gardien's traces on the current site. */
function gardien_site_state(): array
{
    global $wpdb;
    $events = [];
    foreach ((array) _get_cron_array() as $hooks) {
        foreach (array_keys((array) $hooks) as $hook) {
            if (str_starts_with((string) $hook, 'gardien_')) {
                $events[] = $hook;
            }
        }
    }
    return [
        'tables' => $wpdb->get_col($wpdb->prepare('SHOW TABLES LIKE %s', $wpdb->esc_like($wpdb->prefix . 'gardien_') . '%')),
        'options' => $wpdb->get_col("SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE '%gardien%'"),
        'cron' => array_values(array_unique($events)),
    ];
}

$gardien_plugin = 'gardien/gardien.php';
switch ($gardien_command) {
    case 'setup':
        global $wpdb;
        require_once ABSPATH . 'wp-admin/includes/upgrade.php';
        require_once ABSPATH . 'wp-admin/includes/network.php';
        wp_install('Réseau Test', 'admin', 'admin@example.org', true, '', getenv('WP_ADMIN_PASSWORD'));
        update_option('show_avatars', 0);
        // Not a network yet when WordPress loaded: name its global tables, as core's own test
        // installer does.
        foreach ($wpdb->tables('ms_global') as $gardien_table => $gardien_prefixed) {
            $wpdb->$gardien_table = $gardien_prefixed;
        }
        install_network();
        $result = populate_network(1, '127.0.0.1', 'admin@example.org', 'Réseau Test', '/', false);
        if (is_wp_error($result)) {
            fwrite(STDERR, $result->get_error_message() . "\n");
            exit(1);
        }
        gardien_answer(['ok' => true]);
    case 'create-site':
        $id = wp_insert_site([
            'domain' => '127.0.0.1',
            'path' => '/' . $gardien_input['slug'] . '/',
            'title' => 'Site ' . $gardien_input['slug'],
            'user_id' => 1,
        ]);
        if (is_wp_error($id)) {
            fwrite(STDERR, $id->get_error_message() . "\n");
            exit(1);
        }
        gardien_answer(['id' => $id]);
    case 'delete-site':
        $deleted = wp_delete_site((int) $gardien_input['id']);
        gardien_answer(['ok' => !is_wp_error($deleted)]);
    case 'activate':
        $activated = activate_plugin($gardien_plugin, '', (bool) ($gardien_input['network'] ?? true));
        if (is_wp_error($activated)) {
            fwrite(STDERR, $activated->get_error_message() . "\n");
            exit(1);
        }
        gardien_answer(['network_active' => is_plugin_active_for_network($gardien_plugin)]);
    case 'deactivate':
        deactivate_plugins($gardien_plugin, false, (bool) ($gardien_input['network'] ?? true));
        gardien_answer(['network_active' => is_plugin_active_for_network($gardien_plugin)]);
    case 'uninstall':
        deactivate_plugins($gardien_plugin, false, true);
        require_once ABSPATH . 'wp-admin/includes/file.php';
        uninstall_plugin($gardien_plugin);
        wp_cache_flush();
        gardien_answer(['ok' => true]);
    case 'state':
        global $wpdb;
        $sites = [];
        foreach (get_sites(['fields' => 'ids', 'number' => 0]) as $id) {
            switch_to_blog((int) $id);
            $sites[$id] = gardien_site_state();
            restore_current_blog();
        }
        gardien_answer([
            'sites' => $sites,
            // Tables of any site, deleted ones included (their prefix stays wp_<id>_).
            'tables' => $wpdb->get_col("SHOW TABLES LIKE '%gardien%'"),
            'network_options' => $wpdb->get_col("SELECT meta_key FROM {$wpdb->sitemeta} WHERE meta_key LIKE '%gardien%'"),
        ]);
    case 'signing':
        if (isset($gardien_input['filtered'])) {
            // A network's own choice, as a must-use plugin would make it.
            add_filter('gardien_site_id', static fn ($site, $blog) => $gardien_input['filtered'] . '-' . $blog, 10, 2);
            add_filter('gardien_webhook_secret', static fn ($secret, $blog) => $blog === 2 ? 'whsec_filtered' : $secret, 10, 2);
        }
        $settings = \Gardien\Settings::load();
        gardien_answer([
            'blog_id' => get_current_blog_id(),
            'site' => $settings->site(),
            'secret_fingerprint' => substr(hash('sha256', $settings->webhookSecret()), 0, 12),
            'configured' => $settings->isConfigured(),
        ]);
    case 'export':
        $exporters = apply_filters('wp_privacy_personal_data_exporters', []);
        $response = call_user_func($exporters['gardien']['callback'], $gardien_input['email'], 1);
        if (is_wp_error($response)) {
            gardien_answer(['error' => $response->get_error_code()]);
        }
        gardien_answer($response);
    case 'traces':
        $settings = \Gardien\Settings::load();
        (new \Gardien\VisitBuffer($settings))->add(['ts' => '2026-11-26T07:00:00Z', 'url' => home_url('/')]);
        (new \Gardien\Outbox($settings))->enqueue('/v1/contact', ['name' => 'x', 'email' => 'x@example.fr', 'message' => 'x']);
        update_option(\Gardien\Outbox::LAST_ERROR_OPTION, ['at' => time(), 'endpoint' => '/v1/contact', 'error' => 'network']);
        set_transient('gardien_policy_retry_fr', 1, 600);
        gardien_answer(['ok' => true]);
}
fwrite(STDERR, "unknown command {$gardien_command}\n");
exit(2);
