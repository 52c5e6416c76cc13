<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * Sends what visitors submit through Contact Form 7, WPForms and Gravity Forms to the service,
 * after the form plugin has accepted it (and not when it flagged it as spam or was told not to
 * store it).
 */
final class FormCapture
{
    public const SKIPPED_OPTION = 'gardien_skipped_submissions';
    /** How long a CF7 submission is remembered (as a hash) so that sending it again is not a second message. */
    public const SEEN_FOR = 30 * MINUTE_IN_SECONDS;

    public function __construct(private Settings $settings)
    {
    }

    public function hook(): void
    {
        if ($this->settings->captures('cf7')) {
            add_action('wpcf7_submit', [$this, 'action_wpcf7_submit'], 10, 2);
        }
        if ($this->settings->captures('wpforms')) {
            add_action('wpforms_process_complete', [$this, 'action_wpforms_process_complete'], 10, 4);
        }
        if ($this->settings->captures('gravityforms')) {
            add_action('gform_after_submission', [$this, 'action_gform_after_submission'], 10, 2);
        }
    }

    /**
     * @param \WPCF7_ContactForm $contactForm
     * @param array<string, mixed> $result
     */
    public function action_wpcf7_submit($contactForm, $result): void
    {
        if (!in_array($result['status'] ?? '', ['mail_sent', 'mail_failed'], true)) {
            return;
        }
        if ($contactForm->in_demo_mode() || $contactForm->is_true('do_not_store')) {
            return;
        }
        $submission = class_exists('WPCF7_Submission') ? \WPCF7_Submission::get_instance() : null;
        if (!$submission || $submission->get_meta('do_not_store')) {
            return;
        }
        $types = [];
        foreach ((array) $contactForm->scan_form_tags() as $tag) {
            if (!empty($tag->name)) {
                $types[(string) $tag->name] = (string) $tag->basetype;
            }
        }
        $posted = (array) $submission->get_posted_data();
        // What CF7 itself keeps out of storage (as its Flamingo module does): the fields of tags
        // with the do-not-store feature (quiz, CAPTCHA…), and the uploads, whose posted value is
        // the files' SHA-256 hashes.
        foreach (['do-not-store', 'file-uploading'] as $feature) {
            foreach ((array) $contactForm->scan_form_tags(['feature' => $feature]) as $tag) {
                unset($posted[(string) ($tag->name ?? '')]);
            }
        }
        $mapped = FieldMapper::fromContactForm7($posted, $types);
        if (!self::firstTime('cf7-' . $contactForm->id(), $mapped)) {
            return;
        }
        $this->queue('cf7-' . $contactForm->id(), $mapped, 'cf7', $posted);
    }

    /**
     * Whether this form has not just received the same fields. CF7 tells the visitor when its
     * mail failed, and the visitor sends again: the message is captured once. What is kept, for
     * SEEN_FOR seconds, is a keyed hash of the form and the mapped fields (not the fields).
     *
     * @param array<string, mixed> $mapped
     */
    private static function firstTime(string $form, array $mapped): bool
    {
        $key = 'gardien_seen_' . substr(hash_hmac('sha256', $form . "\0" . wp_json_encode($mapped), wp_salt('nonce')), 0, 40);
        if (get_transient($key) !== false) {
            return false;
        }
        set_transient($key, 1, self::SEEN_FOR);
        return true;
    }

    /**
     * @param array<int|string, array<string, mixed>> $fields
     * @param array<string, mixed> $entry
     * @param array<string, mixed> $formData
     * @param int $entryId
     */
    public function action_wpforms_process_complete($fields, $entry, $formData, $entryId): void
    {
        $mapped = FieldMapper::fromWpforms((array) $fields);
        $this->queue(
            'wpforms-' . (int) ($formData['id'] ?? 0),
            $mapped,
            'wpforms',
            (array) $fields,
            self::wpformsCollectsIp((array) $formData)
        );
    }

    /**
     * @param array<string, mixed> $entry
     * @param array<string, mixed> $form
     */
    public function action_gform_after_submission($entry, $form): void
    {
        // Gravity Forms runs this hook for spam too.
        if (($entry['status'] ?? 'active') === 'spam') {
            return;
        }
        $mapped = FieldMapper::fromGravityForms((array) $entry, (array) ($form['fields'] ?? []));
        $this->queue(
            'gravityforms-' . (int) ($form['id'] ?? 0),
            $mapped,
            'gravityforms',
            (array) $entry,
            self::gravityFormsCollectsIp((array) $entry, (array) $form)
        );
    }

    /**
     * WPForms' own answer when it is there (wpforms_is_collecting_ip_allowed()), else the same
     * rule read from its settings: with its GDPR enhancements on, "Disable User Details" for
     * every form (gdpr-disable-details) or "Disable storing user details" for this one
     * ($form_data['settings']['disable_ip']) means no IP.
     *
     * @param array<string, mixed> $formData
     */
    public static function wpformsCollectsIp(array $formData): bool
    {
        if (function_exists('wpforms_is_collecting_ip_allowed')) {
            return (bool) wpforms_is_collecting_ip_allowed($formData);
        }
        $settings = (array) get_option('wpforms_settings', []);
        if (empty($settings['gdpr'])) {
            return true;
        }
        return empty($settings['gdpr-disable-details']) && empty($formData['settings']['disable_ip']);
    }

    /**
     * Gravity Forms keeps no IP when the form's Personal Data setting "Prevent the storage of IP
     * addresses during form submission" is on ($form['personalData']['preventIP']), and records
     * whatever the site's `gform_ip_address` filter returns in the entry's `ip`: an entry that
     * has an `ip` key left empty was saved without one.
     *
     * @param array<string, mixed> $entry
     * @param array<string, mixed> $form
     */
    public static function gravityFormsCollectsIp(array $entry, array $form): bool
    {
        if (!empty($form['personalData']['preventIP'])) {
            return false;
        }
        return !array_key_exists('ip', $entry) || trim((string) $entry['ip']) !== '';
    }

    /**
     * @param array<string, mixed> $mapped
     * @param array<mixed> $raw what the form plugin handed over, for the filter
     * @param bool $withIp false when the form plugin was told not to keep the visitor's IP
     */
    private function queue(string $form, array $mapped, string $source, array $raw, bool $withIp = true): void
    {
        /**
         * Filters how a third-party form's fields map to the contact message.
         *
         * @param array  $mapped ['name', 'email', 'company', 'message', 'fields' => [key => value]]
         * @param string $source 'cf7', 'wpforms' or 'gravityforms'
         * @param array  $raw    the values as the form plugin gave them
         */
        $mapped = apply_filters('gardien_submission_fields', $mapped, $source, $raw);
        if (!is_array($mapped)) {
            return;
        }
        $ip = $withIp ? self::visitorIp($this->settings) : '';
        $submission = Submission::fromMapped($form, $mapped, $ip, self::currentPage());
        if ($submission->errors() !== []) {
            // Not a contact message the service can take (a newsletter form with no message,
            // no e-mail field…). Counted for the admin page; its content is not logged.
            update_option(self::SKIPPED_OPTION, (int) get_option(self::SKIPPED_OPTION, 0) + 1, false);
            return;
        }
        (new Outbox($this->settings))->queueAndSend('/v1/contact', $submission->toPayload());
    }

    public static function visitorIp(Settings $settings): string
    {
        return VisitorIp::resolve(wp_unslash($_SERVER), $settings->ipHeader(), $settings->trustedProxies());
    }

    /** The page the form was sent from: the referring page of the AJAX or POST request, on this site only. */
    public static function currentPage(): string
    {
        $referer = wp_get_referer();
        if (!is_string($referer) || $referer === '') {
            return '';
        }
        if (str_starts_with($referer, '/')) {
            $referer = self::origin() . $referer;
        }
        return esc_url_raw($referer, ['http', 'https']);
    }

    /** Scheme, host and port of the site, without its path: "https://example.fr". */
    public static function origin(): string
    {
        $home = wp_parse_url(home_url('/'));
        $port = isset($home['port']) ? ':' . $home['port'] : '';
        return ($home['scheme'] ?? 'https') . '://' . ($home['host'] ?? '') . $port;
    }
}
