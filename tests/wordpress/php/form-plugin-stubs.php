<?php

/**
 * Stand-ins for the parts of Contact Form 7 that Gardien's wpcf7_submit callback uses, with the
 * same method names and signatures (CF7 itself cannot be installed in the test machine).
 * WPForms and Gravity Forms pass plain arrays to their hooks, so they need none.
 */

if (!class_exists('WPCF7_ContactForm')) {
    final class WPCF7_FormTag
    {
        public function __construct(public string $name, public string $basetype)
        {
        }
    }

    final class WPCF7_ContactForm
    {
        /**
         * @param array<string, string> $tags     field name => base type
         * @param array<string, bool>   $settings additional settings (do_not_store, demo_mode)
         */
        public function __construct(private int $id, private array $tags, private array $settings)
        {
        }

        public function id(): int
        {
            return $this->id;
        }

        public function is_true(string $name): bool
        {
            return !empty($this->settings[$name]);
        }

        public function in_demo_mode(): bool
        {
            return $this->is_true('demo_mode');
        }

        /**
         * CF7's features of its own tag types (wpcf7_add_form_tag() in its modules), plus those a
         * test gives for other tag types.
         *
         * @var array<string, list<string>>
         */
        public static array $features = [
            'file' => ['name-attr', 'file-uploading'],
            'quiz' => ['name-attr', 'do-not-store', 'not-for-mail'],
            'captchar' => ['name-attr', 'do-not-store'],
        ];

        /**
         * @param array{feature?: string}|null $cond as CF7's, for the `feature` condition
         * @return list<WPCF7_FormTag>
         */
        public function scan_form_tags($cond = null): array
        {
            $tags = [];
            foreach ($this->tags as $name => $type) {
                $feature = is_array($cond) ? ($cond['feature'] ?? '') : '';
                if ($feature !== '' && !in_array($feature, self::$features[$type] ?? [], true)) {
                    continue;
                }
                $tags[] = new WPCF7_FormTag($name, $type);
            }
            return $tags;
        }
    }

    final class WPCF7_Submission
    {
        public static ?WPCF7_Submission $instance = null;

        /**
         * @param array<string, mixed> $posted
         * @param array<string, mixed> $meta
         */
        public function __construct(private array $posted, private array $meta)
        {
        }

        public static function get_instance(): ?self
        {
            return self::$instance;
        }

        /** @return array<string, mixed> */
        public function get_posted_data(): array
        {
            return $this->posted;
        }

        public function get_meta(string $name): mixed
        {
            return $this->meta[$name] ?? null;
        }
    }
}
