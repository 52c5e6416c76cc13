<?php

namespace Gardien;

defined('ABSPATH') || exit;

use WP_Error;

/**
 * A visitor's own privacy request: shortcode [gardien_privacy_request] and the block
 * gardien/privacy-request. The form creates a request of WordPress's privacy tools
 * (wp_create_user_request) and sends core's confirmation e-mail (wp_send_user_request): once the
 * person confirms, the request waits in Tools → Export / Erase Personal Data like any other.
 *
 * Refused without creating anything: a filled honeypot (answered as if all went well), an expired
 * nonce, and more than a few attempts an hour from one address (counted in a transient named
 * after a keyed hash of the address: the address itself is never stored).
 */
final class PrivacyRequestForm
{
    use PostedForm;

    public const SHORTCODE = 'gardien_privacy_request';
    /** Attempts per hour from one visitor address; the `gardien_privacy_request_limit` filter changes it. */
    public const LIMIT_PER_HOUR = 5;
    private const NONCE_ACTION = 'gardien_privacy_request';
    private const NONCE_FIELD = '_gardien_privacy_nonce';
    private const HONEYPOT = 'gardien_privacy_website';
    private const FLAG = 'gardien_privacy_request';
    private const ANCHOR = 'gardien-privacy-request';
    private const TYPES = ['export' => 'export_personal_data', 'erase' => 'remove_personal_data'];

    /** @var array{status: string, errors: array<string, string>, values: array<string, string>} */
    private array $state = ['status' => '', 'errors' => [], 'values' => []];

    public function __construct(private Settings $settings)
    {
    }

    public function hook(): void
    {
        add_shortcode(self::SHORTCODE, [$this, 'shortcode_gardien_privacy_request']);
        add_action('init', [$this, 'action_init'], 10, 0);
        add_action('template_redirect', [$this, 'action_template_redirect'], 5, 0);
    }

    public function action_init(): void
    {
        wp_register_script(
            'gardien-privacy-request-block',
            plugins_url('blocks/privacy-request/editor.js', GARDIEN_PLUGIN_FILE),
            ['wp-blocks', 'wp-element', 'wp-block-editor', 'wp-components'],
            GARDIEN_VERSION,
            true
        );
        wp_localize_script('gardien-privacy-request-block', 'gardienPrivacyRequestBlock', [
            'title' => __('Privacy request form (Gardien)', 'gardien'),
            'description' => self::blockDescription(),
            'placeholder' => __(
                'The form where visitors ask for a copy or the erasure of their personal data is shown here on the published page.',
                'gardien'
            ),
        ]);
        // The title and description are also given here so that this plugin's catalogue translates them.
        register_block_type(dirname(GARDIEN_PLUGIN_FILE) . '/blocks/privacy-request', [
            'title' => __('Privacy request form (Gardien)', 'gardien'),
            'description' => self::blockDescription(),
            'render_callback' => fn (): string => $this->render(),
        ]);
    }

    /** @param array<string, string>|string $atts */
    public function shortcode_gardien_privacy_request($atts = []): string
    {
        return $this->render();
    }

    /** Handle a submission of the form, before the page is rendered. */
    public function action_template_redirect(): void
    {
        if (!isset($_POST[self::FLAG])) {
            return;
        }
        $post = wp_unslash($_POST);
        $type = sanitize_key((string) ($post['gardien_privacy_type'] ?? ''));
        $values = [
            'type' => isset(self::TYPES[$type]) ? $type : '',
            'email' => sanitize_text_field((string) ($post['gardien_privacy_email'] ?? '')),
        ];
        $this->state['values'] = $values;

        if (!wp_verify_nonce((string) ($post[self::NONCE_FIELD] ?? ''), self::NONCE_ACTION)) {
            $this->state['status'] = 'expired';
            return;
        }
        $page = self::currentUrl();
        if (trim((string) ($post[self::HONEYPOT] ?? '')) !== '') {
            // A robot filled the hidden field: answer as if all went well, create nothing.
            $this->redirectSent($page);
        }
        if (!$this->takeAttempt()) {
            $this->state['status'] = 'limited';
            return;
        }
        $errors = [];
        if ($values['type'] === '') {
            $errors['type'] = __('Please choose what you are asking for.', 'gardien');
        }
        if ($values['email'] === '') {
            $errors['email'] = __('Please enter your e-mail address.', 'gardien');
        } elseif (!is_email($values['email'])) {
            $errors['email'] = __('Please enter a valid e-mail address, such as name@example.com.', 'gardien');
        }
        if ($errors !== []) {
            $this->state['status'] = 'invalid';
            $this->state['errors'] = $errors;
            return;
        }
        $request = wp_create_user_request($values['email'], self::TYPES[$values['type']]);
        if ($request instanceof WP_Error) {
            // A request for this address is already open: say the same as for a new one, so the
            // form does not tell who has asked; its confirmation e-mail was sent when it was made.
            if ($request->get_error_code() === 'duplicate_request') {
                $this->redirectSent($page);
            }
            $this->state['status'] = 'failed';
            return;
        }
        $sent = wp_send_user_request((int) $request);
        if ($sent instanceof WP_Error || $sent === false) {
            $this->state['status'] = 'failed';
            return;
        }
        $this->redirectSent($page);
    }

    /** The form, with the outcome of the last submission if any. */
    public function render(): string
    {
        wp_enqueue_style('gardien-contact');
        $status = $this->shownStatus();
        $values = $status === 'sent' ? [] : $this->state['values'];
        $errors = $this->state['errors'];

        ob_start();
        $this->openForm($status, 'gardien-privacy-request__form gardien-contact__form');
        $this->typeField($values['type'] ?? '', $errors['type'] ?? '');
        $this->emailField($values['email'] ?? '', $errors['email'] ?? '');
        $this->printHoneypot();
        $this->closeForm(__('Send my request', 'gardien'));
        return (string) ob_get_clean();
    }

    private static function blockDescription(): string
    {
        return __(
            'A form where visitors ask for a copy or the erasure of their personal data; WordPress asks them to confirm by e-mail.',
            'gardien'
        );
    }

    /**
     * Count one attempt from this visitor's address; false when the hour's limit is reached.
     * The transient is named after an HMAC of the address with this site's salt.
     */
    private function takeAttempt(): bool
    {
        /**
         * Filters how many privacy requests one visitor address may send in an hour.
         *
         * @param int $limit 5 by default
         */
        $limit = max(1, (int) apply_filters('gardien_privacy_request_limit', self::LIMIT_PER_HOUR));
        $ip = FormCapture::visitorIp($this->settings);
        $key = 'gardien_prq_' . substr(hash_hmac('sha256', $ip, wp_salt('nonce')), 0, 32);
        $count = (int) get_transient($key);
        if ($count >= $limit) {
            return false;
        }
        set_transient($key, $count + 1, HOUR_IN_SECONDS);
        return true;
    }

    private function printNotice(string $status): void
    {
        $messages = [
            'sent' => [
                'success',
                __(
                    'Thank you. We have sent you an e-mail: please click the link in it to confirm your request. We handle it once it is confirmed.',
                    'gardien'
                ),
            ],
            'invalid' => [
                'error',
                __('Your request has not been sent yet: please correct the fields marked below.', 'gardien'),
            ],
            'expired' => [
                'error',
                __('Your request has not been sent: the form had expired. Please check it and send it again.', 'gardien'),
            ],
            'limited' => [
                'error',
                __(
                    'Your request has not been sent: too many requests came from your connection. Please try again in an hour.',
                    'gardien'
                ),
            ],
            'failed' => [
                'error',
                __('Sorry, your request could not be recorded. Please try again later, or contact us.', 'gardien'),
            ],
        ];
        if (!isset($messages[$status])) {
            return;
        }
        [$kind, $text] = $messages[$status];
        printf(
            '<div class="gardien-contact__notice gardien-contact__notice--%s" role="%s">%s</div>',
            esc_attr($kind),
            esc_attr($kind === 'success' ? 'status' : 'alert'),
            esc_html($text)
        );
    }

    private function typeField(string $value, string $error): void
    {
        printf(
            '<fieldset class="gardien-contact__field gardien-privacy-request__type"%s><legend>%s <span '
                . 'class="gardien-contact__required" aria-hidden="true">*</span></legend>',
            $error !== '' ? ' aria-describedby="gardien-privacy-type-error"' : '',
            esc_html__('Your request', 'gardien')
        );
        $choices = [
            'export' => __('Send me a copy of my personal data', 'gardien'),
            'erase' => __('Erase my personal data', 'gardien'),
        ];
        foreach ($choices as $key => $label) {
            printf(
                '<label for="gardien-privacy-type-%1$s"><input id="gardien-privacy-type-%1$s" type="radio" '
                    . 'name="gardien_privacy_type" value="%1$s" required%2$s%3$s> %4$s</label>',
                esc_attr($key),
                checked($value, $key, false),
                $error !== '' ? ' aria-invalid="true"' : '',
                esc_html($label)
            );
        }
        $this->printError('gardien-privacy-type', $error);
        echo '</fieldset>';
    }

    private function emailField(string $value, string $error): void
    {
        printf(
            '<p class="gardien-contact__field"><label for="gardien-privacy-email">%1$s <span '
                . 'class="gardien-contact__required" aria-hidden="true">*</span></label> <input '
                . 'id="gardien-privacy-email" type="email" name="gardien_privacy_email" value="%2$s" '
                . 'autocomplete="email" maxlength="254" required%3$s>',
            esc_html__('E-mail address', 'gardien'),
            esc_attr($value),
            $error !== '' ? ' aria-invalid="true" aria-describedby="gardien-privacy-email-error"' : ''
        );
        $this->printError('gardien-privacy-email', $error);
        echo '</p>';
    }
}
