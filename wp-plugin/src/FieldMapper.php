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
    /*
     * Words (or runs of words) of a field's name or label that say what it holds. They are
     * matched as whole words, so "économie" or "nombre" hold no name; compare the words of
     * labelWords(), lower case, separators and camelCase split.
     */
    private const COMPANY = [
        'company', 'companies', 'entreprise', 'societe', 'société', 'organisation', 'organization',
        'organisme', 'business', 'raison sociale',
    ];
    private const EMAIL = ['email', 'emails', 'e mail', 'mail', 'courriel', 'mel', 'mél'];
    private const MESSAGE = [
        'message', 'messages', 'comment', 'comments', 'commentaire', 'commentaires', 'demande',
        'enquiry', 'inquiry', 'question', 'questions', 'details', 'détails',
    ];
    private const NAME = [
        'name', 'names', 'nom', 'noms', 'prenom', 'prénom', 'prénoms', 'prenoms', 'surname',
        'firstname', 'lastname', 'fullname', 'identite', 'identité',
    ];
    /** After French "comment" ("how"), these make the label a question, not a comment field. */
    private const FRENCH_QUESTION = [
        'nous', 'vous', 'je', 'j', 'tu', 'il', 'elle', 'on', 'ils', 'elles', 'avez', 'allez',
        'souhaitez', 'voulez', 'pouvons', 'puis', 'est', 'faire', 'ça', 'ca',
    ];
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
        $words = self::labelWords($label);
        if ($words === []) {
            return null;
        }
        // French "comment" opening a question ("Comment nous avez-vous connu ?") is not a comment.
        $at = array_search('comment', $words, true);
        if ($at !== false && in_array($words[$at + 1] ?? '', self::FRENCH_QUESTION, true)) {
            unset($words[$at]);
            $words = array_values($words);
        }
        $text = ' ' . implode(' ', $words) . ' ';
        // Company before name ("company name"), e-mail before name ("your-email" holds no name).
        $terms = [
            'company' => self::COMPANY,
            'email' => self::EMAIL,
            'message' => self::MESSAGE,
            'name' => self::NAME,
        ];
        foreach ($terms as $target => $list) {
            foreach ($list as $term) {
                if (str_contains($text, ' ' . $term . ' ')) {
                    return $target;
                }
            }
        }
        return null;
    }

    /**
     * The words of a name or label, lower case: split on anything that is not a letter or a
     * digit (in any script) and between a lower-case letter and a capital ("yourEmail").
     *
     * @return list<string>
     */
    public static function labelWords(string $label): array
    {
        $label = (string) preg_replace('/(?<=\p{Ll})(?=\p{Lu})/u', ' ', $label);
        $words = preg_split('/[^\p{L}\p{N}]+/u', mb_strtolower($label, 'UTF-8'), -1, PREG_SPLIT_NO_EMPTY);
        return $words === false ? [] : array_values($words);
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
