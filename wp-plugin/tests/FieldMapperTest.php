<?php

namespace Gardien\Tests;

use ArrayAccess;
use Gardien\FieldMapper;
use PHPUnit\Framework\TestCase;

final class FieldMapperTest extends TestCase
{
    public function testContactForm7DefaultFormMapsByTypeAndName(): void
    {
        $posted = [
            'your-name' => 'Paul Durand',
            'your-email' => 'paul@example.fr',
            'your-subject' => 'Devis',
            'your-message' => "Bonjour,\nPouvez-vous passer ?",
            '_wpcf7' => '12',
            '_wpcf7_unit_tag' => 'wpcf7-f12-p4-o1',
            'g-recaptcha-response' => 'token',
        ];
        $types = [
            'your-name' => 'text',
            'your-email' => 'email',
            'your-subject' => 'text',
            'your-message' => 'textarea',
        ];
        self::assertSame([
            'name' => 'Paul Durand',
            'email' => 'paul@example.fr',
            'company' => '',
            'message' => "Bonjour,\nPouvez-vous passer ?",
            'fields' => ['your-subject' => 'Devis'],
        ], FieldMapper::fromContactForm7($posted, $types));
    }

    public function testContactForm7WithoutTagTypesUsesFrenchFieldNames(): void
    {
        $posted = [
            'nom' => 'Claire',
            'courriel' => 'claire@example.fr',
            'societe' => 'Petit SARL',
            'demande' => 'Un devis',
            'telephone' => '06 12 34 56 78',
            'services' => ['Dépannage', 'Formation'],
        ];
        $mapped = FieldMapper::fromContactForm7($posted);
        self::assertSame('Claire', $mapped['name']);
        self::assertSame('claire@example.fr', $mapped['email']);
        self::assertSame('Petit SARL', $mapped['company']);
        self::assertSame('Un devis', $mapped['message']);
        self::assertSame(['telephone' => '06 12 34 56 78', 'services' => 'Dépannage, Formation'], $mapped['fields']);
    }

    public function testACompanyNameFieldIsTheCompanyNotThePersonsName(): void
    {
        $mapped = FieldMapper::fromContactForm7(
            ['company-name' => 'ACME', 'full-name' => 'Ann Lee', 'email' => 'a@b.fr']
        );
        self::assertSame('ACME', $mapped['company']);
        self::assertSame('Ann Lee', $mapped['name']);
    }

    public function testWpformsFieldsMapByType(): void
    {
        $fields = [
            0 => [
                'name' => 'Name',
                'value' => 'Claire Petit',
                'id' => 0,
                'type' => 'name',
                'first' => 'Claire',
                'last' => 'Petit',
            ],
            1 => ['name' => 'Email', 'value' => 'claire@example.fr', 'id' => 1, 'type' => 'email'],
            2 => ['name' => 'Organisation', 'value' => 'Petit SARL', 'id' => 2, 'type' => 'text'],
            3 => ['name' => 'Comment or Message', 'value' => 'Un devis, svp.', 'id' => 3, 'type' => 'textarea'],
            4 => ['name' => 'Phone', 'value' => '0612345678', 'id' => 4, 'type' => 'phone'],
            5 => ['name' => '', 'value' => 'x', 'id' => 5, 'type' => 'hidden'],
        ];
        self::assertSame([
            'name' => 'Claire Petit',
            'email' => 'claire@example.fr',
            'company' => 'Petit SARL',
            'message' => 'Un devis, svp.',
            'fields' => ['Phone' => '0612345678', 'field_5' => 'x'],
        ], FieldMapper::fromWpforms($fields));
    }

    public function testGravityFormsJoinsNameInputsAndReadsFieldObjects(): void
    {
        $name = new class (['id' => 1, 'type' => 'name', 'label' => 'Name', 'inputs' => [
            ['id' => '1.2', 'label' => 'Prefix'],
            ['id' => '1.3', 'label' => 'First'],
            ['id' => '1.6', 'label' => 'Last'],
        ]]) implements ArrayAccess {
            /** @param array<string, mixed> $data */
            public function __construct(private array $data)
            {
            }

            public function offsetExists(mixed $offset): bool
            {
                return isset($this->data[$offset]);
            }

            public function offsetGet(mixed $offset): mixed
            {
                return $this->data[$offset] ?? null;
            }

            public function offsetSet(mixed $offset, mixed $value): void
            {
                $this->data[$offset] = $value;
            }

            public function offsetUnset(mixed $offset): void
            {
                unset($this->data[$offset]);
            }
        };
        $email = (object) ['id' => 2, 'type' => 'email', 'label' => 'Email', 'inputs' => null];
        $fields = [
            $name,
            $email,
            ['id' => 3, 'type' => 'text', 'label' => 'Entreprise'],
            ['id' => 4, 'type' => 'textarea', 'label' => 'Comments'],
            ['id' => 5, 'type' => 'checkbox', 'label' => 'Topics', 'inputs' => [['id' => '5.1'], ['id' => '5.2']]],
        ];
        $entry = [
            'id' => '9',
            'status' => 'active',
            '1.2' => '',
            '1.3' => 'Luc',
            '1.6' => 'Bernard',
            '2' => 'luc@example.fr',
            '3' => 'Bernard & fils',
            '4' => 'Rappelez-moi',
            '5.1' => 'Audit',
            '5.2' => 'Formation',
        ];
        self::assertSame([
            'name' => 'Luc Bernard',
            'email' => 'luc@example.fr',
            'company' => 'Bernard & fils',
            'message' => 'Rappelez-moi',
            'fields' => ['Topics' => 'Audit, Formation'],
        ], FieldMapper::fromGravityForms($entry, $fields));
    }

    public function testEmptyValuesAreLeftOut(): void
    {
        $mapped = FieldMapper::fromContactForm7(['your-email' => 'a@b.fr', 'your-company' => ' ', 'note' => '']);
        self::assertSame('', $mapped['company']);
        self::assertSame([], $mapped['fields']);
    }

    public function testUploadFieldsOfWpformsAndGravityFormsAreLeftOut(): void
    {
        $url = 'https://example.fr/wp-content/uploads/cv.pdf';
        $wpforms = FieldMapper::fromWpforms([
            1 => ['name' => 'Email', 'value' => 'a@b.fr', 'id' => 1, 'type' => 'email'],
            2 => ['name' => 'CV', 'value' => $url, 'id' => 2, 'type' => 'file-upload'],
            3 => ['name' => 'Signature', 'value' => $url, 'id' => 3, 'type' => 'signature'],
        ]);
        self::assertSame([], $wpforms['fields']);
        $gravity = FieldMapper::fromGravityForms(
            ['1' => 'a@b.fr', '2' => $url, '3' => $url],
            [
                ['id' => 1, 'type' => 'email', 'label' => 'Email'],
                ['id' => 2, 'type' => 'fileupload', 'label' => 'CV'],
                ['id' => 3, 'type' => 'signature', 'label' => 'Signature'],
            ]
        );
        self::assertSame([], $gravity['fields']);
    }

    /**
     * @return array<string, array{string, string|null}>
     */
    public static function labels(): array
    {
        return [
            'économie is no name' => ['Économie', null],
            'nombre is no name' => ['Nombre de salariés', null],
            'a French question is no message' => ['Comment nous avez-vous connu ?', null],
            'nor this one' => ['Comment souhaitez-vous être recontacté ?', null],
            'renommée is no name' => ['renommee', null],
            'domain is no e-mail' => ['domaine', null],
            'nom' => ['Nom', 'name'],
            'name' => ['your-name', 'name'],
            'prénom' => ['Prénom', 'name'],
            'camelCase' => ['firstName', 'name'],
            'nom de la société' => ['Nom de la société', 'company'],
            'company' => ['company', 'company'],
            'société' => ['Société', 'company'],
            'raison sociale' => ['raison_sociale', 'company'],
            'e-mail' => ['E-mail', 'email'],
            'courriel' => ['Votre courriel', 'email'],
            'yourEmail' => ['yourEmail', 'email'],
            'message' => ['your-message', 'message'],
            'comments' => ['Additional comments', 'message'],
            'a comment' => ['Comment', 'message'],
            'demande' => ['Votre demande', 'message'],
        ];
    }

    /** @dataProvider labels */
    public function testLabelsMatchByWholeWords(string $label, ?string $target): void
    {
        $mapped = FieldMapper::fromWpforms([1 => ['name' => $label, 'value' => 'x', 'id' => 1, 'type' => 'text']]);
        $found = null;
        foreach (['name', 'email', 'company', 'message'] as $key) {
            if ($mapped[$key] !== '') {
                $found = $key;
            }
        }
        self::assertSame($target, $found, $label);
    }

    public function testLabelWordsAreSplitInAnyScript(): void
    {
        self::assertSame(['votre', 'société', 'sàrl'], FieldMapper::labelWords('Votre_société—SÀRL'));
        self::assertSame(['your', 'e', 'mail'], FieldMapper::labelWords('yourE-mail'));
        self::assertSame(['имя'], FieldMapper::labelWords('Имя:'));
    }
}
