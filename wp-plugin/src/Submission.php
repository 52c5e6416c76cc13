<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * One contact-form submission in the contract's shape (POST /v1/contact), checked against the
 * contract's limits before it is queued, so the service's 422 stays the exception.
 */
final class Submission
{
    public const MAX_NAME = 200;
    public const MAX_EMAIL = 254;
    public const MAX_COMPANY = 200;
    public const MAX_MESSAGE = 20000;
    public const MAX_FIELDS = 20;
    private const MAX_FIELD_KEY = 64;
    private const MAX_FIELD_VALUE = 2000;

    /**
     * @param array<string, string> $fields
     */
    public function __construct(
        public readonly string $form,
        public readonly string $name,
        public readonly string $email,
        public readonly string $company,
        public readonly string $message,
        public readonly array $fields = [],
        public readonly ?bool $consent = null,
        public readonly string $ip = '',
        public readonly string $page = ''
    ) {
    }

    /**
     * From a FieldMapper result. A form without a name field still has a sender: the part of
     * the address before the @ stands in (the contract allows pseudonyms). A form without a
     * message field sends its other fields as the message.
     *
     * @param array<string, mixed> $mapped name, email, company, message, fields (FieldMapper's shape)
     */
    public static function fromMapped(string $form, array $mapped, string $ip, string $page): self
    {
        $email = trim((string) ($mapped['email'] ?? ''));
        $name = trim((string) ($mapped['name'] ?? ''));
        if ($name === '' && str_contains($email, '@')) {
            $name = strstr($email, '@', true);
        }
        $fields = [];
        foreach ((array) ($mapped['fields'] ?? []) as $key => $value) {
            $key = substr(sanitize_key(remove_accents((string) $key)), 0, self::MAX_FIELD_KEY);
            if ($key !== '' && count($fields) < self::MAX_FIELDS) {
                $fields[$key] = mb_substr(trim((string) $value), 0, self::MAX_FIELD_VALUE);
            }
        }
        $message = trim((string) ($mapped['message'] ?? ''));
        if ($message === '' && $fields !== []) {
            $lines = [];
            foreach ($fields as $key => $value) {
                $lines[] = $key . ': ' . $value;
            }
            $message = implode("\n", $lines);
        }
        return new self(
            $form,
            mb_substr($name, 0, self::MAX_NAME),
            $email,
            mb_substr(trim((string) ($mapped['company'] ?? '')), 0, self::MAX_COMPANY),
            mb_substr($message, 0, self::MAX_MESSAGE),
            $fields,
            null,
            $ip,
            $page
        );
    }

    /**
     * Problems, by field, that the service would refuse.
     *
     * @return array<string, string>
     */
    public function errors(): array
    {
        $errors = [];
        $nameLength = mb_strlen($this->name);
        if ($nameLength < 1 || $nameLength > self::MAX_NAME) {
            $errors['name'] = __('Please enter your name (a pseudonym is fine).', 'gardien');
        }
        if (!self::isAcceptedEmail($this->email)) {
            $errors['email'] = __('Please enter a valid e-mail address.', 'gardien');
        }
        if (mb_strlen($this->company) > self::MAX_COMPANY) {
            $errors['company'] = __('The company name is too long.', 'gardien');
        }
        $messageLength = mb_strlen($this->message);
        if ($messageLength < 1 || $messageLength > self::MAX_MESSAGE) {
            $errors['message'] = sprintf(
                /* translators: %s: maximum number of characters */
                __('Please write your message (at most %s characters).', 'gardien'),
                number_format_i18n(self::MAX_MESSAGE)
            );
        }
        if (count($this->fields) > self::MAX_FIELDS) {
            $errors['fields'] = __('Too many form fields.', 'gardien');
        }
        return $errors;
    }

    /**
     * An address the service takes. is_email() also lets through a local part with a dot at
     * either end or two dots in a row, a one-letter top-level domain and labels over 63
     * characters, all of which the service refuses (422): such a message would never arrive.
     */
    public static function isAcceptedEmail(string $email): bool
    {
        if (strlen($email) > self::MAX_EMAIL || !is_email($email)) {
            return false;
        }
        [$local, $domain] = explode('@', $email, 2);
        if (str_starts_with($local, '.') || str_ends_with($local, '.') || str_contains($local, '..')) {
            return false;
        }
        $labels = explode('.', $domain);
        if (max(array_map('strlen', $labels)) > 63) {
            return false;
        }
        return strlen((string) end($labels)) >= 2;
    }

    /**
     * The JSON body of POST /v1/contact. `submitted_at` is fixed here, once, so that every
     * retry sends the same bytes under the same webhook-id.
     *
     * @return array<string, mixed>
     */
    public function toPayload(): array
    {
        $payload = [
            'form' => $this->form,
            'submitted_at' => gmdate('Y-m-d\TH:i:s\Z'),
            'name' => $this->name,
            'email' => $this->email,
            'message' => $this->message,
        ];
        if ($this->company !== '') {
            $payload['company'] = $this->company;
        }
        if ($this->ip !== '') {
            $payload['ip'] = $this->ip;
        }
        if ($this->page !== '') {
            $payload['page'] = $this->page;
        }
        if ($this->consent !== null) {
            $payload['consent'] = $this->consent;
        }
        if ($this->fields !== []) {
            $payload['fields'] = $this->fields;
        }
        return $payload;
    }

    public function withConsent(bool $consent): self
    {
        return new self(
            $this->form,
            $this->name,
            $this->email,
            $this->company,
            $this->message,
            $this->fields,
            $consent,
            $this->ip,
            $this->page
        );
    }
}
