// `${NAME}` templates: they live in core (config checks them at load too); re-exported for the triggers.
export * from '../core/template.js';
