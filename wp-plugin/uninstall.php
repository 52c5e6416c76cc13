<?php

/**
 * Removes everything Gardien stored in this WordPress: options, transients, the cron event and
 * both tables — on every site of a multisite network. Messages still waiting in the outbox are
 * deleted with it (the settings page shows how many are waiting; deliver them first). Nothing
 * is deleted on the Gardien service: what it holds follows its retention policy.
 */

defined('ABSPATH') || exit;
defined('WP_UNINSTALL_PLUGIN') || exit;

$gardien_uninstall_site = static function (): void {
    global $wpdb;

    foreach (
        [
            'gardien_settings',
            'gardien_db_version',
            'gardien_last_delivery',
            'gardien_last_error',
            'gardien_policy_cache',
            'gardien_skipped_submissions',
            'gardien_unstored_submissions',
            'gardien_signature_refused',
            'gardien_keyring',
            'gardien_visits_summary',
        ] as $gardien_option
    ) {
        delete_option($gardien_option);
    }

    $wpdb->query(
        "DELETE FROM {$wpdb->options}
         WHERE option_name LIKE '\\_transient\\_gardien\\_%' OR option_name LIKE '\\_transient\\_timeout\\_gardien\\_%'
         OR option_name LIKE 'gardien\\_lock\\_%'"
    );

    wp_clear_scheduled_hook('gardien_outbox_delivery');
    // The single events of a delivery or a policy refresh that had not run yet (any arguments).
    wp_unschedule_hook('gardien_outbox_delivery_soon');
    wp_unschedule_hook('gardien_policy_refresh');
    wp_unschedule_hook('gardien_visits_summary_refresh');

    $wpdb->query("DROP TABLE IF EXISTS {$wpdb->prefix}gardien_outbox");
    $wpdb->query("DROP TABLE IF EXISTS {$wpdb->prefix}gardien_visits");
};

if (!is_multisite()) {
    $gardien_uninstall_site();
    return;
}

// Every site of the network, a hundred at a time (Gardien keeps no network-wide option).
for ($gardien_offset = 0;; $gardien_offset += 100) {
    $gardien_sites = get_sites(['fields' => 'ids', 'number' => 100, 'offset' => $gardien_offset, 'orderby' => 'id']);
    foreach ($gardien_sites as $gardien_site) {
        switch_to_blog((int) $gardien_site);
        $gardien_uninstall_site();
        restore_current_blog();
    }
    if (count($gardien_sites) < 100) {
        break;
    }
}
