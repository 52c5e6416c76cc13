/* Editor side of the gardien/contact block (blocks/contact/block.json): the form itself is
   rendered by PHP on the page. */
(function (blocks, element, blockEditor, components, strings) {
    'use strict';
    blocks.registerBlockType('gardien/contact', {
        apiVersion: 3,
        title: strings.title,
        description: strings.description,
        icon: 'email',
        category: 'widgets',
        supports: { html: false, multiple: false },
        edit: function () {
            return element.createElement(
                'div',
                blockEditor.useBlockProps(),
                element.createElement(components.Placeholder, {
                    icon: 'email',
                    label: strings.title,
                    instructions: strings.placeholder
                })
            );
        },
        save: function () {
            return null;
        }
    });
}(window.wp.blocks, window.wp.element, window.wp.blockEditor, window.wp.components, window.gardienContactBlock));
