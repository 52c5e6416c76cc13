<?php

namespace Gardien;

defined('ABSPATH') || exit;

use Gardien\Admin\DashboardWidget;
use Gardien\Admin\SettingsPage;
use Gardien\Admin\StatusPage;

/**
 * Wires the plugin's parts to WordPress. Each part registers its own hooks in its hook().
 */
final class Plugin
{
    public function hook(): void
    {
        add_action('plugins_loaded', [$this, 'action_plugins_loaded'], 10, 0);
        add_action('init', [$this, 'action_init'], 10, 0);
        add_action('change_locale', [$this, 'action_change_locale'], 10, 0);

        $settings = Settings::load();
        (new Outbox($settings))->hook();
        (new Stats($settings))->hook();
        (new Policy($settings))->hook();
        (new ContactForm($settings))->hook();
        (new FormCapture($settings))->hook();
        (new PrivacyTools($settings))->hook();
        (new PrivacyRequestForm($settings))->hook();
        (new VisitsSummary($settings))->hook();
        if (is_admin()) {
            (new SettingsPage())->hook();
            (new StatusPage($settings))->hook();
            (new DashboardWidget($settings))->hook();
        }
    }

    public function action_plugins_loaded(): void
    {
        load_plugin_textdomain('gardien', false, dirname(plugin_basename(GARDIEN_PLUGIN_FILE)) . '/languages');
        Installer::upgradeIfNeeded();
    }

    /** switch_to_locale() (e-mails in the recipient's language) unloads plugin translations. */
    public function action_change_locale(): void
    {
        unload_textdomain('gardien');
        load_plugin_textdomain('gardien', false, dirname(plugin_basename(GARDIEN_PLUGIN_FILE)) . '/languages');
    }

    public function action_init(): void
    {
        self::scheduleDelivery();
    }

    /** The delivery event runs every five minutes; scheduled again if something removed it. */
    public static function scheduleDelivery(): void
    {
        if (!wp_next_scheduled(Outbox::CRON_HOOK)) {
            wp_schedule_event(time(), Outbox::CRON_SCHEDULE, Outbox::CRON_HOOK);
        }
    }
}
