/* Editor side of the gardien/privacy-request block (block.json next to this file): the form
   itself is rendered by PHP on the page. */
(function (blocks, element, blockEditor, components, strings) {
    'use strict';
    blocks.registerBlockType('gardien/privacy-request', {
        apiVersion: 3,
        title: strings.title,
        description: strings.description,
        icon: 'shield',
        category: 'widgets',
        supports: { html: false, multiple: false },
        edit: function () {
            return element.createElement(
                'div',
                blockEditor.useBlockProps(),
                element.createElement(components.Placeholder, {
                    icon: 'shield',
                    label: strings.title,
                    instructions: strings.placeholder
                })
            );
        },
        save: function () {
            return null;
        }
    });
}(window.wp.blocks, window.wp.element, window.wp.blockEditor, window.wp.components, window.gardienPrivacyRequestBlock));
