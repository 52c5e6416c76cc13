<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * Creates and upgrades the plugin's tables (dbDelta, versioned by `gardien_db_version`) and
 * schedules the WP-Cron delivery event. On a network, activation and deactivation for the
 * whole network act on every site, a site created later gets its tables, and a deleted site's
 * tables are dropped with it.
 */
final class Installer
{
    public const DB_VERSION = '1';
    public const DB_VERSION_OPTION = 'gardien_db_version';

    /** Sites read at a time when the whole network is walked. */
    private const BATCH = 100;

    /** Seconds a network activation spends installing; later sites install on their first load. */
    private const NETWORK_INSTALL_SECONDS = 20;

    public static function activate(bool $networkWide = false): void
    {
        if (!$networkWide || !is_multisite()) {
            self::installSite();
            return;
        }
        $until = microtime(true) + self::NETWORK_INSTALL_SECONDS;
        self::eachSite(static function () use ($until): bool {
            self::installSite();
            return microtime(true) < $until;
        });
    }

    public static function deactivate(bool $networkWide = false): void
    {
        if (!$networkWide || !is_multisite()) {
            self::clearCron();
            return;
        }
        self::eachSite(static function (): bool {
            self::clearCron();
            return true;
        });
    }

    /** Hooks of a network: a new site gets its tables, a deleted one loses them. */
    public static function hookNetwork(): void
    {
        if (is_multisite()) {
            add_action('wp_initialize_site', [self::class, 'action_wp_initialize_site'], 100, 1);
            add_filter('wpmu_drop_tables', [self::class, 'filter_wpmu_drop_tables'], 10, 2);
        }
    }

    /** A site created on a network where Gardien is active for the whole network. */
    public static function action_wp_initialize_site(\WP_Site $site): void
    {
        require_once ABSPATH . 'wp-admin/includes/plugin.php';
        if (!is_plugin_active_for_network(plugin_basename(GARDIEN_PLUGIN_FILE))) {
            return;
        }
        switch_to_blog((int) $site->blog_id);
        self::installSite();
        restore_current_blog();
    }

    /**
     * The tables WordPress drops with a deleted site: Gardien's too (and the messages still
     * waiting in its outbox with them).
     *
     * @param string[] $tables
     * @return string[]
     */
    public static function filter_wpmu_drop_tables($tables, $siteId): array
    {
        global $wpdb;
        $prefix = $wpdb->get_blog_prefix((int) $siteId);
        return array_merge((array) $tables, [$prefix . 'gardien_outbox', $prefix . 'gardien_visits']);
    }

    /** The current site: tables, default settings, the delivery event. */
    private static function installSite(): void
    {
        self::upgrade();
        add_option(Settings::OPTION, Settings::defaults(), '', 'yes');
        Plugin::scheduleDelivery();
    }

    private static function clearCron(): void
    {
        wp_clear_scheduled_hook(Outbox::CRON_HOOK);
        wp_unschedule_hook(Outbox::SOON_HOOK);
        wp_unschedule_hook(Policy::REFRESH_HOOK);
        wp_unschedule_hook(VisitsSummary::REFRESH_HOOK);
    }

    /**
     * Runs $step on every site of the network, switched to it, reading the sites a batch at a
     * time; stops early when $step returns false.
     *
     * @param callable(): bool $step
     */
    private static function eachSite(callable $step): void
    {
        for ($offset = 0;; $offset += self::BATCH) {
            $ids = get_sites(['fields' => 'ids', 'number' => self::BATCH, 'offset' => $offset, 'orderby' => 'id']);
            foreach ($ids as $id) {
                switch_to_blog((int) $id);
                $more = $step();
                restore_current_blog();
                if (!$more) {
                    return;
                }
            }
            if (count($ids) < self::BATCH) {
                return;
            }
        }
    }

    /** Run dbDelta when the stored schema version is not this code's. */
    public static function upgradeIfNeeded(): void
    {
        if (get_option(self::DB_VERSION_OPTION) !== self::DB_VERSION) {
            self::upgrade();
        }
    }

    public static function upgrade(): void
    {
        global $wpdb;
        require_once ABSPATH . 'wp-admin/includes/upgrade.php';
        $charset = $wpdb->get_charset_collate();
        $outbox = Outbox::table();
        $visits = VisitBuffer::table();

        // dbDelta's format: one column per line, two spaces after PRIMARY KEY.
        dbDelta("CREATE TABLE {$outbox} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  webhook_id varchar(128) NOT NULL,
  endpoint varchar(64) NOT NULL,
  payload longtext NOT NULL,
  status varchar(16) NOT NULL DEFAULT 'pending',
  attempts smallint(5) unsigned NOT NULL DEFAULT 0,
  next_attempt_at datetime NOT NULL,
  locked_until datetime DEFAULT NULL,
  last_status smallint(5) unsigned DEFAULT NULL,
  last_error varchar(64) DEFAULT NULL,
  created_at datetime NOT NULL,
  last_attempt_at datetime DEFAULT NULL,
  PRIMARY KEY  (id),
  UNIQUE KEY webhook_id (webhook_id),
  KEY status_due (status,next_attempt_at)
) {$charset};");

        dbDelta("CREATE TABLE {$visits} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  payload text NOT NULL,
  created_at datetime NOT NULL,
  PRIMARY KEY  (id)
) {$charset};");

        update_option(self::DB_VERSION_OPTION, self::DB_VERSION);
    }
}
