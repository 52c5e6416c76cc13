<?php

/**
 * Class loader for the Gardien\ namespace: Gardien\Admin\StatusPage lives in src/Admin/StatusPage.php.
 * Written by hand so the plugin runs without a Composer install.
 */

defined('ABSPATH') || exit;

spl_autoload_register(
    static function (string $class): void {
        $prefix = 'Gardien\\';
        if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
            return;
        }
        $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_readable($file)) {
            require $file;
        }
    }
);
