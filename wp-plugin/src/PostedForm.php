<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * What the plugin's front-end forms (contact, privacy request) share: the outcome shown, the
 * form's opening and end (nonce, flag, honeypot, button), a field's error tied to it, the page's
 * own URL, and the redirect after a successful post. Each form names its result flag (a query
 * argument and the hidden field that marks its posts), its anchor (the id of its box), its nonce
 * and honeypot fields in FLAG, ANCHOR, NONCE_ACTION, NONCE_FIELD and HONEYPOT; it keeps this
 * request's outcome in $state and says it with printNotice().
 */
trait PostedForm
{
    /** The outcome to show: this request's, or "sent" after the form's own redirect. */
    private function shownStatus(): string
    {
        $status = $this->state['status'];
        // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- only the flag of our own redirect after a verified submission, compared to a constant: it changes nothing.
        if ($status === '' && isset($_GET[self::FLAG]) && $_GET[self::FLAG] === 'sent') {
            $status = 'sent';
        }
        return $status;
    }

    /** The form's box, the notice of $status, and the form up to its first field. */
    private function openForm(string $status, string $class): void
    {
        printf('<div id="%1$s" class="%1$s">', esc_attr(self::ANCHOR));
        $this->printNotice($status);
        printf(
            '<form class="%s" method="post" action="%s" novalidate>',
            esc_attr($class),
            esc_url(self::currentUrl() . '#' . self::ANCHOR)
        );
        wp_nonce_field(self::NONCE_ACTION, self::NONCE_FIELD, false);
        printf('<input type="hidden" name="%s" value="1">', esc_attr(self::FLAG));
    }

    /** The field only robots fill in: hidden from people and from assistive technology. */
    private function printHoneypot(): void
    {
        printf(
            '<p class="gardien-contact__hp" aria-hidden="true"><label>%s <input type="text" name="%s" value="" '
                . 'tabindex="-1" autocomplete="off"></label></p>',
            esc_html__('Leave this field empty', 'gardien'),
            esc_attr(self::HONEYPOT)
        );
    }

    /** The submit button, and the end of the form and of its box. */
    private function closeForm(string $button): void
    {
        printf(
            '<p class="gardien-contact__submit"><button type="submit" class="wp-element-button">%s</button></p>',
            esc_html($button)
        );
        echo '</form></div>';
    }

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
