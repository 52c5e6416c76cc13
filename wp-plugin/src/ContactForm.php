<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * The plugin's own contact form: shortcode [gardien_contact] and the block gardien/contact.
 * Posted to the page it sits on; on success the visitor is redirected (303) to the same page with
 * a confirmation, on any problem the form is shown again with what they typed.
 */
final class ContactForm
{
    use PostedForm;

    private const FLAG = 'gardien_contact';
    private const ANCHOR = 'gardien-contact';

    private const NONCE_ACTION = 'gardien_contact';
    private const NONCE_FIELD = '_gardien_nonce';
    private const HONEYPOT = 'gardien_website';

    /** @var array{status: string, errors: array<string, string>, values: array<string, string>} */
    private array $state = ['status' => '', 'errors' => [], 'values' => []];

    public function __construct(private Settings $settings)
    {
    }

    public function hook(): void
    {
        add_shortcode('gardien_contact', [$this, 'shortcode_gardien_contact']);
        add_action('init', [$this, 'action_init'], 10, 0);
        add_action('template_redirect', [$this, 'action_template_redirect'], 5, 0);
    }

    public function action_init(): void
    {
        wp_register_style(
            'gardien-contact',
            plugins_url('assets/contact.css', GARDIEN_PLUGIN_FILE),
            [],
            GARDIEN_VERSION
        );
        wp_register_script(
            'gardien-contact-block',
            plugins_url('assets/contact-block.js', GARDIEN_PLUGIN_FILE),
            ['wp-blocks', 'wp-element', 'wp-block-editor', 'wp-components'],
            GARDIEN_VERSION,
            true
        );
        wp_localize_script('gardien-contact-block', 'gardienContactBlock', [
            'title' => __('Contact form (Gardien)', 'gardien'),
            'description' => __(
                'A contact form whose messages are kept by Gardien, encrypted, for the retention period of your policy.',
                'gardien'
            ),
            'placeholder' => __('The Gardien contact form is shown here on the published page.', 'gardien'),
        ]);
        // blocks/contact/block.json describes the block; its title and description are also given
        // here so that they are translated from this plugin's catalogue like every other string.
        register_block_type(dirname(GARDIEN_PLUGIN_FILE) . '/blocks/contact', [
            'title' => __('Contact form (Gardien)', 'gardien'),
            'description' => __(
                'A contact form whose messages are kept by Gardien, encrypted, for the retention period of your policy.',
                'gardien'
            ),
            'render_callback' => fn (): string => $this->render(),
        ]);
    }

    /** @param array<string, string>|string $atts */
    public function shortcode_gardien_contact($atts = []): string
    {
        return $this->render();
    }

    /** Handle a submission of the form, before the page is rendered. */
    public function action_template_redirect(): void
    {
        if (!isset($_POST['gardien_contact']) || !$this->settings->captures('own')) {
            return;
        }
        $post = wp_unslash($_POST);
        $values = [
            'name' => sanitize_text_field((string) ($post['gardien_name'] ?? '')),
            'email' => sanitize_text_field((string) ($post['gardien_email'] ?? '')),
            'company' => sanitize_text_field((string) ($post['gardien_company'] ?? '')),
            'message' => sanitize_textarea_field((string) ($post['gardien_message'] ?? '')),
            'consent' => empty($post['gardien_consent']) ? '' : '1',
        ];
        $this->state['values'] = $values;

        if (!wp_verify_nonce((string) ($post[self::NONCE_FIELD] ?? ''), self::NONCE_ACTION)) {
            $this->state['status'] = 'expired';
            return;
        }
        $page = self::currentUrl();
        if (trim((string) ($post[self::HONEYPOT] ?? '')) !== '') {
            // A robot filled the hidden field: answer as if all went well, keep nothing.
            $this->redirectSent($page);
        }
        $submission = new Submission(
            'contact',
            $values['name'],
            $values['email'],
            $values['company'],
            $values['message'],
            [],
            $values['consent'] === '1',
            FormCapture::visitorIp($this->settings),
            $page
        );
        $errors = $submission->errors();
        if ($values['consent'] !== '1') {
            $errors['consent'] = __('Please confirm that you have read how your message is kept.', 'gardien');
        }
        if ($errors !== []) {
            $this->state['status'] = 'invalid';
            $this->state['errors'] = $errors;
            return;
        }
        if ((new Outbox($this->settings))->queueAndSend('/v1/contact', $submission->toPayload()) === null) {
            $this->state['status'] = 'failed';
            return;
        }
        $this->redirectSent($page);
    }

    /** The form, with the outcome of the last submission if any. */
    public function render(): string
    {
        if (!$this->settings->captures('own')) {
            return '';
        }
        wp_enqueue_style('gardien-contact');
        $status = $this->shownStatus();
        $values = $status === 'sent' ? [] : $this->state['values'];
        $errors = $this->state['errors'];

        ob_start();
        $this->openForm($status, 'gardien-contact__form');
        $this->textField('name', __('Name', 'gardien'), 'text', 'name', true, 200, $values, $errors);
        $this->textField('email', __('E-mail address', 'gardien'), 'email', 'email', true, 254, $values, $errors);
        $this->textField(
            'company',
            __('Company (optional)', 'gardien'),
            'text',
            'organization',
            false,
            200,
            $values,
            $errors
        );
        $this->messageField($values, $errors);
        $this->printHoneypot();
        $this->consentField($values, $errors);
        $this->closeForm(__('Send', 'gardien'));
        return (string) ob_get_clean();
    }

    /** The consent line, after the retention period the published policy gives for contact messages. */
    public function consentText(): string
    {
        $period = (new Policy($this->settings))->contactPeriodLabel();
        if ($period !== null) {
            return sprintf(
                /* translators: 1: site name, 2: retention period such as "1 year" */
                __(
                    'I agree that %1$s keeps my name, e-mail address, company, IP address and message for %2$s to answer my request.',
                    'gardien'
                ),
                get_bloginfo('name'),
                $period
            );
        }
        return sprintf(
            /* translators: %s: site name */
            __(
                'I agree that %s keeps my name, e-mail address, company, IP address and message to answer my request, for the period stated in the privacy policy.',
                'gardien'
            ),
            get_bloginfo('name')
        );
    }

    private function printNotice(string $status): void
    {
        $messages = [
            'sent' => [
                'success',
                __('Thank you, your message has been sent. We will answer you by e-mail.', 'gardien'),
            ],
            'invalid' => [
                'error',
                __('Your message has not been sent yet: please correct the fields marked below.', 'gardien'),
            ],
            'expired' => [
                'error',
                __(
                    'Your message has not been sent: the form had expired. Please check it and send it again.',
                    'gardien'
                ),
            ],
            'failed' => [
                'error',
                __(
                    'Sorry, your message could not be sent. Please try again in a few minutes, or contact us by phone.',
                    'gardien'
                ),
            ],
        ];
        if (!isset($messages[$status])) {
            return;
        }
        [$kind, $text] = $messages[$status];
        $role = $kind === 'success' ? 'status' : 'alert';
        printf(
            '<div class="gardien-contact__notice gardien-contact__notice--%s" role="%s">%s</div>',
            esc_attr($kind),
            esc_attr($role),
            esc_html($text)
        );
    }

    /**
     * @param array<string, string> $values
     * @param array<string, string> $errors
     */
    private function textField(
        string $key,
        string $label,
        string $type,
        string $autocomplete,
        bool $required,
        int $max,
        array $values,
        array $errors
    ): void {
        $id = 'gardien-' . $key;
        printf(
            '<p class="gardien-contact__field"><label for="%1$s">%2$s%3$s</label> <input id="%1$s" type="%4$s" '
                . 'name="gardien_%5$s" value="%6$s" autocomplete="%7$s" maxlength="%8$d"%9$s%10$s>',
            esc_attr($id),
            esc_html($label),
            $required ? ' <span class="gardien-contact__required" aria-hidden="true">*</span>' : '',
            esc_attr($type),
            esc_attr($key),
            esc_attr($values[$key] ?? ''),
            esc_attr($autocomplete),
            (int) $max,
            $required ? ' required' : '',
            isset($errors[$key]) ? ' aria-invalid="true" aria-describedby="' . esc_attr($id . '-error') . '"' : ''
        );
        $this->printError($id, $errors[$key] ?? '');
        echo '</p>';
    }

    /**
     * @param array<string, string> $values
     * @param array<string, string> $errors
     */
    private function messageField(array $values, array $errors): void
    {
        printf(
            '<p class="gardien-contact__field"><label for="gardien-message">%1$s <span '
                . 'class="gardien-contact__required" aria-hidden="true">*</span></label> <textarea '
                . 'id="gardien-message" name="gardien_message" rows="8" maxlength="%2$d" '
                . 'required%3$s>%4$s</textarea>',
            esc_html__('Message', 'gardien'),
            (int) Submission::MAX_MESSAGE,
            isset($errors['message']) ? ' aria-invalid="true" aria-describedby="gardien-message-error"' : '',
            esc_textarea($values['message'] ?? '')
        );
        $this->printError('gardien-message', $errors['message'] ?? '');
        echo '</p>';
    }

    /**
     * @param array<string, string> $values
     * @param array<string, string> $errors
     */
    private function consentField(array $values, array $errors): void
    {
        printf(
            '<p class="gardien-contact__consent"><label><input type="checkbox" name="gardien_consent" value="1" '
                . 'required%1$s%2$s> %3$s</label>',
            checked(($values['consent'] ?? '') === '1', true, false),
            isset($errors['consent']) ? ' aria-invalid="true" aria-describedby="gardien-consent-error"' : '',
            esc_html($this->consentText())
        );
        $policy = get_privacy_policy_url();
        if ($policy !== '') {
            printf(' <a href="%s">%s</a>', esc_url($policy), esc_html__('Privacy policy', 'gardien'));
        }
        $this->printError('gardien-consent', $errors['consent'] ?? '');
        echo '</p>';
    }
}
