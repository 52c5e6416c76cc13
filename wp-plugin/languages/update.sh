#!/bin/sh
# Re-extract the strings, merge them into the French translation, compile it.
# Run from anywhere; needs gettext (xgettext, msgmerge, msgfmt).
set -eu
cd "$(dirname "$0")/.."
xgettext -L PHP --from-code=UTF-8 -k -k__ -k_e -kesc_html__ -kesc_html_e -kesc_attr__ -kesc_attr_e \
    -k_n:1,2 -k_x:1,2c --add-comments=translators: --package-name=gardien --package-version=0.1.0 \
    --msgid-bugs-address=' ' --sort-by-file -o languages/gardien.pot $(find src -name '*.php' | sort)
# The plugin header's name and description are shown translated on the Plugins screen.
for header in 'Plugin Name' 'Description'; do
    value=$(sed -n "s/^ \* ${header}: *//p" gardien.php)
    printf '\n#. %s of the plugin\n#: gardien.php\nmsgid "%s"\nmsgstr ""\n' "$header" "$value" >> languages/gardien.pot
done
msguniq --use-first -o languages/gardien.pot languages/gardien.pot
[ -f languages/gardien-fr_FR.po ] && msgmerge --quiet --update --backup=none --no-fuzzy-matching languages/gardien-fr_FR.po languages/gardien.pot
[ -f languages/gardien-fr_FR.po ] && msgfmt --check -o languages/gardien-fr_FR.mo languages/gardien-fr_FR.po
