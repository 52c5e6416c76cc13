<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * Creates and upgrades the plugin's tables (dbDelta, versioned by `gardien_db_version`) and
 * schedules the WP-Cron delivery event.
 */
final class Installer
{
    public const DB_VERSION = '1';
    public const DB_VERSION_OPTION = 'gardien_db_version';

    public static function activate(): void
    {
        self::upgrade();
        add_option(Settings::OPTION, Settings::defaults(), '', 'yes');
        Plugin::scheduleDelivery();
    }

    public static function deactivate(): void
    {
        wp_clear_scheduled_hook(Outbox::CRON_HOOK);
        wp_unschedule_hook(Outbox::SOON_HOOK);
        wp_unschedule_hook(Policy::REFRESH_HOOK);
        wp_unschedule_hook(VisitsSummary::REFRESH_HOOK);
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
