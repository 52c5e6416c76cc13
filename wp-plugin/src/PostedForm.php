<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * What the plugin's front-end forms (contact, privacy request) share: a field's error tied to it,
 * the page's own URL, and the redirect after a successful post. Each form names its result flag
 * (a query argument) and its anchor in FLAG and ANCHOR.
 */
trait PostedForm
{
    private function printError(string $id, string $message): void
    {
        if ($message === '') {
            return;
        }
        printf(
            '<span id="%s-error" class="gardien-contact__error">%s</span>',
            esc_attr($id),
            esc_html($message)
        );
    }

    /** This page's URL (plain permalinks live in the query string), without the form's result flag. */
    private static function currentUrl(): string
    {
        $uri = isset($_SERVER['REQUEST_URI']) ? esc_url_raw(wp_unslash($_SERVER['REQUEST_URI'])) : '/';
        $url = FormCapture::origin() . '/' . ltrim($uri, '/');
        return esc_url_raw(remove_query_arg(self::FLAG, $url));
    }

    private function redirectSent(string $page): void
    {
        wp_safe_redirect(add_query_arg(self::FLAG, 'sent', $page) . '#' . self::ANCHOR, 303);
        exit;
    }
}
