<?php

/**
 * Installs the test WordPress in its (empty) database, activates Gardien, and creates the pages
 * the tests visit. Prints their ids as JSON.
 */

require __DIR__ . '/bootstrap.php';
define('WP_INSTALLING', true);
require $gardien_wp_dir . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$gardien_install = wp_install('Atelier Test', 'admin', 'admin@example.org', true, '', getenv('WP_ADMIN_PASSWORD'));
update_option('show_avatars', 0);
update_option('blogdescription', '');

$gardien_activated = activate_plugin('gardien/gardien.php');
if (is_wp_error($gardien_activated)) {
    fwrite(STDERR, $gardien_activated->get_error_message() . "\n");
    exit(1);
}

$gardien_contact = wp_insert_post([
    'post_type' => 'page',
    'post_status' => 'publish',
    'post_title' => 'Contact',
    'post_content' => '[gardien_contact]',
]);
$gardien_block = wp_insert_post([
    'post_type' => 'page',
    'post_status' => 'publish',
    'post_title' => 'Contact (block)',
    'post_content' => '<!-- wp:gardien/contact /-->',
]);
$gardien_privacy = wp_insert_post([
    'post_type' => 'page',
    'post_status' => 'publish',
    'post_title' => 'Privacy policy',
    'post_content' => "<p>How long we keep your data:</p>\n[gardien_retention_table]",
]);
update_option('wp_page_for_privacy_policy', $gardien_privacy);
$gardien_draft = wp_insert_post([
    'post_type' => 'page',
    'post_status' => 'draft',
    'post_title' => 'Draft',
    'post_content' => 'Not published yet.',
]);

echo json_encode([
    'contact_page' => $gardien_contact,
    'block_page' => $gardien_block,
    'privacy_page' => $gardien_privacy,
    'draft_page' => $gardien_draft,
]), "\n";
