<?php

namespace Gardien;

defined('ABSPATH') || exit;

/**
 * Reads name / e-mail / company / message out of what Contact Form 7, WPForms and Gravity Forms
 * hand to their hooks. Field types are trusted first, then field names and labels (English and
 * French). Everything else goes to `fields`. Sites with unusual forms use the
 * `gardien_submission_fields` filter on the result.
 */
final class FieldMapper
{
    private const COMPANY = '/company|entreprise|soci[ée]t[ée]|organi[sz]ation|business|raison[ _-]?sociale/i';
    private const EMAIL = '/e-?mail|courriel|mel\b/i';
    private const MESSAGE = '/message|comment|demande|enquiry|inquiry|question|details/i';
    private const NAME = '/name|nom|pr[ée]nom|identit/i';
    private const IGNORED = '/^(_|g-recaptcha|h-captcha|cf-turnstile)/i';
    /** Field types whose value is an uploaded file's URL (WPForms, Gravity Forms): not sent. */
    private const FILE_TYPES = ['file-upload', 'fileupload', 'signature'];

    /**
     * @param array<string, mixed>  $posted   WPCF7_Submission::get_posted_data()
     * @param array<string, string> $types    field name => CF7 base type ('email', 'textarea', …)
     * @return array{name: string, email: string, company: string, message: string, fields: array<string, string>}
     */
    public static function fromContactForm7(array $posted, array $types = []): array
    {
        $candidates = [];
        foreach ($posted as $key => $value) {
            $key = (string) $key;
            if (preg_match(self::IGNORED, $key) === 1) {
                continue;
            }
            $candidates[] = [
                'key' => $key,
                'label' => $key,
                'type' => (string) ($types[$key] ?? ''),
                'value' => $value,
            ];
        }
        return self::classify($candidates);
    }

    /**
     * @param array<int|string, array<string, mixed>> $fields the `$fields` of wpforms_process_complete
     * @return array{name: string, email: string, company: string, message: string, fields: array<string, string>}
     */
    public static function fromWpforms(array $fields): array
    {
        $candidates = [];
        foreach ($fields as $id => $field) {
            if (!is_array($field)) {
                continue;
            }
            $label = (string) ($field['name'] ?? '');
            if (in_array((string) ($field['type'] ?? ''), self::FILE_TYPES, true)) {
                continue;
            }
            $candidates[] = [
                'key' => $label !== '' ? $label : 'field_' . $id,
                'label' => $label,
                'type' => (string) ($field['type'] ?? ''),
                'value' => $field['value'] ?? '',
            ];
        }
        return self::classify($candidates);
    }

    /**
     * @param array<string, mixed>      $entry  the Gravity Forms entry (values keyed by field id, "1.3" for sub-inputs)
     * @param array<int, array|object>  $fields `$form['fields']` (GF_Field objects or arrays)
     * @return array{name: string, email: string, company: string, message: string, fields: array<string, string>}
     */
    public static function fromGravityForms(array $entry, array $fields): array
    {
        $candidates = [];
        foreach ($fields as $field) {
            $id = (string) self::prop($field, 'id');
            $type = (string) self::prop($field, 'type');
            $label = (string) self::prop($field, 'label');
            if (in_array($type, self::FILE_TYPES, true)) {
                continue;
            }
            $inputs = self::prop($field, 'inputs');
            if (is_array($inputs) && $inputs !== []) {
                $parts = [];
                foreach ($inputs as $input) {
                    $value = $entry[(string) self::prop($input, 'id')] ?? '';
                    if (is_scalar($value) && trim((string) $value) !== '') {
                        $parts[] = trim((string) $value);
                    }
                }
                $value = implode($type === 'name' ? ' ' : ', ', $parts);
            } else {
                $value = $entry[$id] ?? '';
            }
            $candidates[] = [
                'key' => $label !== '' ? $label : 'field_' . $id,
                'label' => $label,
                'type' => $type,
                'value' => $value,
            ];
        }
        return self::classify($candidates);
    }

    /**
     * @param list<array{key: string, label: string, type: string, value: mixed}> $candidates
     * @return array{name: string, email: string, company: string, message: string, fields: array<string, string>}
     */
    private static function classify(array $candidates): array
    {
        $mapped = ['name' => '', 'email' => '', 'company' => '', 'message' => '', 'fields' => []];
        // Types are the strongest signal, so they are placed first; names and labels come second.
        foreach ([true, false] as $byType) {
            foreach ($candidates as $index => $candidate) {
                $value = self::text($candidate['value']);
                $target = $byType ? self::targetByType($candidate['type']) : self::targetByLabel($candidate['label']);
                if ($target === null || $value === '' || $mapped[$target] !== '') {
                    continue;
                }
                $mapped[$target] = $value;
                unset($candidates[$index]);
            }
        }
        foreach ($candidates as $candidate) {
            $value = self::text($candidate['value']);
            if ($value !== '') {
                $mapped['fields'][$candidate['key']] = $value;
            }
        }
        return $mapped;
    }

    private static function targetByType(string $type): ?string
    {
        return match ($type) {
            'email' => 'email',
            'name' => 'name',
            'textarea' => 'message',
            default => null,
        };
    }

    private static function targetByLabel(string $label): ?string
    {
        // Company before name ("company name"), e-mail before name ("your-email" holds no name).
        $patterns = [
            'company' => self::COMPANY,
            'email' => self::EMAIL,
            'message' => self::MESSAGE,
            'name' => self::NAME,
        ];
        foreach ($patterns as $target => $pattern) {
            if (preg_match($pattern, $label) === 1) {
                return $target;
            }
        }
        return null;
    }

    /** Form values as one string: lists (checkboxes, multi-selects) joined with commas. */
    private static function text(mixed $value): string
    {
        if (is_array($value)) {
            $value = implode(
                ', ',
                array_filter(array_map(static fn ($v) => is_scalar($v) ? trim((string) $v) : '', $value))
            );
        }
        return is_scalar($value) ? trim((string) $value) : '';
    }

    private static function prop(mixed $source, string $name): mixed
    {
        if (is_array($source) || $source instanceof \ArrayAccess) {
            return $source[$name] ?? null;
        }
        return is_object($source) ? ($source->$name ?? null) : null;
    }
}
