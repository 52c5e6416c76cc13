<?php

/**
 * Plugin Name:       Gardien
 * Description:       Sends contact messages and page views to your Gardien back office, which keeps them encrypted.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * Author:            Gardien
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       gardien
 * Domain Path:       /languages
 */

namespace Gardien;

defined('ABSPATH') || exit;

define('GARDIEN_VERSION', '0.1.0');
define('GARDIEN_PLUGIN_FILE', __FILE__);

require __DIR__ . '/src/autoload.php';

register_activation_hook(__FILE__, [Installer::class, 'activate']);
register_deactivation_hook(__FILE__, [Installer::class, 'deactivate']);
Installer::hookNetwork();

(new Plugin())->hook();
