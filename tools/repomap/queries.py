"""Tree-sitter tag queries, one pair per language (our own, written against the official grammars).

DEFS patterns pair `@name.<kind>` (the defined identifier) with `@def.<kind>` (the whole
definition, used for its signature line and line span). Kinds listed in CONTAINER_KINDS (impl
blocks, namespaces) are shown as context around their members but define no symbol.
REFS patterns capture `@ref` (plain names: calls, bases, decorators, types) or `@ref.member`
(member calls such as `x.join()`), so stoplists.py can drop each kind's built-in names. Missing a pattern costs ranking quality, never correctness.
"""
from __future__ import annotations

CONTAINER_KINDS = frozenset({"impl", "namespace"})

PYTHON_DEFS = r"""
(class_definition name: (identifier) @name.class) @def.class
(function_definition name: (identifier) @name.function) @def.function
(module (expression_statement (assignment left: (identifier) @name.constant
  (#match? @name.constant "^[A-Z][A-Z0-9_]+$")) @def.constant))
"""
PYTHON_REFS = r"""
(call function: (identifier) @ref)
(call function: (attribute attribute: (identifier) @ref.member))
(class_definition superclasses: (argument_list (identifier) @ref))
(class_definition superclasses: (argument_list (attribute attribute: (identifier) @ref)))
(decorator (identifier) @ref)
(decorator (attribute attribute: (identifier) @ref))
(type (identifier) @ref)
(type (attribute attribute: (identifier) @ref))
(generic_type (identifier) @ref)
(import_from_statement name: (dotted_name (identifier) @ref .))
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @ref .)))
"""

_JS_COMMON_DEFS = r"""
(function_declaration name: (identifier) @name.function) @def.function
(generator_function_declaration name: (identifier) @name.function) @def.function
(method_definition name: (property_identifier) @name.method) @def.method
(variable_declarator name: (identifier) @name.function
  value: [(arrow_function) (function_expression) (generator_function)]) @def.function
(assignment_expression
  left: (member_expression property: (property_identifier) @name.function)
  right: [(arrow_function) (function_expression)]) @def.function
"""
_JS_COMMON_REFS = r"""
(call_expression function: (identifier) @ref)
(call_expression function: (member_expression property: (property_identifier) @ref.member))
(new_expression constructor: (identifier) @ref)
(new_expression constructor: (member_expression property: (property_identifier) @ref))
"""
JAVASCRIPT_DEFS = _JS_COMMON_DEFS + r"""
(class_declaration name: (identifier) @name.class) @def.class
(variable_declarator name: (identifier) @name.class value: (class)) @def.class
"""
JAVASCRIPT_REFS = _JS_COMMON_REFS + r"""
(class_heritage (identifier) @ref)
(class_heritage (member_expression property: (property_identifier) @ref))
(jsx_opening_element name: (identifier) @ref)
(jsx_self_closing_element name: (identifier) @ref)
"""
TYPESCRIPT_DEFS = _JS_COMMON_DEFS + r"""
(class_declaration name: (type_identifier) @name.class) @def.class
(abstract_class_declaration name: (type_identifier) @name.class) @def.class
(interface_declaration name: (type_identifier) @name.interface) @def.interface
(type_alias_declaration name: (type_identifier) @name.type) @def.type
(enum_declaration name: (identifier) @name.enum) @def.enum
(function_signature name: (identifier) @name.function) @def.function
(method_signature name: (property_identifier) @name.method) @def.method
(abstract_method_signature name: (property_identifier) @name.method) @def.method
(internal_module name: (identifier) @name.namespace) @def.namespace
"""
TYPESCRIPT_REFS = _JS_COMMON_REFS + r"""
(type_identifier) @ref
(extends_clause value: (identifier) @ref)
"""
TSX_REFS = TYPESCRIPT_REFS + r"""
(jsx_opening_element name: (identifier) @ref)
(jsx_self_closing_element name: (identifier) @ref)
"""

GO_DEFS = r"""
(function_declaration name: (identifier) @name.function) @def.function
(method_declaration name: (field_identifier) @name.method) @def.method
(type_spec name: (type_identifier) @name.type) @def.type
(method_elem name: (field_identifier) @name.method) @def.method
(source_file (const_declaration (const_spec name: (identifier) @name.constant) @def.constant))
"""
GO_REFS = r"""
(call_expression function: (identifier) @ref)
(call_expression function: (selector_expression field: (field_identifier) @ref.member))
(type_identifier) @ref
"""

RUST_DEFS = r"""
(function_item name: (identifier) @name.function) @def.function
(function_signature_item name: (identifier) @name.function) @def.function
(struct_item name: (type_identifier) @name.struct) @def.struct
(enum_item name: (type_identifier) @name.enum) @def.enum
(union_item name: (type_identifier) @name.union) @def.union
(trait_item name: (type_identifier) @name.trait) @def.trait
(type_item name: (type_identifier) @name.type) @def.type
(macro_definition name: (identifier) @name.macro) @def.macro
(const_item name: (identifier) @name.constant) @def.constant
(static_item name: (identifier) @name.constant) @def.constant
(impl_item type: (_) @name.impl) @def.impl
(mod_item name: (identifier) @name.namespace body: (_)) @def.namespace
"""
RUST_REFS = r"""
(call_expression function: (identifier) @ref)
(call_expression function: (field_expression field: (field_identifier) @ref.member))
(call_expression function: (scoped_identifier name: (identifier) @ref.member))
(call_expression function: (scoped_identifier path: (identifier) @ref))
(call_expression function: (generic_function function: (identifier) @ref))
(call_expression function: (generic_function function: (scoped_identifier name: (identifier) @ref.member)))
(call_expression function: (generic_function function: (field_expression field: (field_identifier) @ref.member)))
(macro_invocation macro: (identifier) @ref)
(type_identifier) @ref
"""

JAVA_DEFS = r"""
(class_declaration name: (identifier) @name.class) @def.class
(interface_declaration name: (identifier) @name.interface) @def.interface
(enum_declaration name: (identifier) @name.enum) @def.enum
(record_declaration name: (identifier) @name.class) @def.class
(annotation_type_declaration name: (identifier) @name.interface) @def.interface
(method_declaration name: (identifier) @name.method) @def.method
"""
JAVA_REFS = r"""
(method_invocation object: (_) name: (identifier) @ref.member)
(method_invocation !object name: (identifier) @ref)
(type_identifier) @ref
(marker_annotation name: (identifier) @ref)
(annotation name: (identifier) @ref)
"""

_C_DECLARATOR = r"""
[(function_declarator declarator: (identifier) @name.function)
 (pointer_declarator declarator: (function_declarator declarator: (identifier) @name.function))
 (pointer_declarator declarator: (pointer_declarator
   declarator: (function_declarator declarator: (identifier) @name.function)))]
"""
C_DEFS = (
    f"(function_definition declarator: {_C_DECLARATOR}) @def.function\n"
    f"(translation_unit (declaration declarator: {_C_DECLARATOR}) @def.function)\n"
) + r"""
(struct_specifier name: (type_identifier) @name.struct body: (_)) @def.struct
(union_specifier name: (type_identifier) @name.union body: (_)) @def.union
(enum_specifier name: (type_identifier) @name.enum body: (_)) @def.enum
(type_definition declarator: (type_identifier) @name.type) @def.type
(preproc_function_def name: (identifier) @name.macro) @def.macro
"""
C_REFS = r"""
(call_expression function: (identifier) @ref)
(call_expression function: (field_expression field: (field_identifier) @ref.member))
(type_identifier) @ref
"""

_CPP_NAME = r"""
[(identifier) @name.function
 (field_identifier) @name.function
 (qualified_identifier name: (identifier) @name.function)
 (qualified_identifier name: (qualified_identifier name: (identifier) @name.function))]
"""
_CPP_DECLARATOR = (
    f"[(function_declarator declarator: {_CPP_NAME})\n"
    f" (pointer_declarator declarator: (function_declarator declarator: {_CPP_NAME}))\n"
    f" (reference_declarator (function_declarator declarator: {_CPP_NAME}))]"
)
CPP_DEFS = (
    f"(function_definition declarator: {_CPP_DECLARATOR}) @def.function\n"
    f"(field_declaration declarator: {_CPP_DECLARATOR}) @def.function\n"
    f"(declaration declarator: {_CPP_DECLARATOR}) @def.function\n"
) + r"""
(class_specifier name: (type_identifier) @name.class body: (_)) @def.class
(struct_specifier name: (type_identifier) @name.struct body: (_)) @def.struct
(union_specifier name: (type_identifier) @name.union body: (_)) @def.union
(enum_specifier name: (type_identifier) @name.enum body: (_)) @def.enum
(type_definition declarator: (type_identifier) @name.type) @def.type
(alias_declaration name: (type_identifier) @name.type) @def.type
(preproc_function_def name: (identifier) @name.macro) @def.macro
(namespace_definition name: (namespace_identifier) @name.namespace) @def.namespace
"""
CPP_REFS = r"""
(call_expression function: (identifier) @ref)
(call_expression function: (field_expression field: (field_identifier) @ref.member))
(call_expression function: (qualified_identifier name: (identifier) @ref))
(call_expression function: (template_function name: (identifier) @ref))
(type_identifier) @ref
"""

QUERIES: dict[str, tuple[str, str]] = {
    "python": (PYTHON_DEFS, PYTHON_REFS),
    "javascript": (JAVASCRIPT_DEFS, JAVASCRIPT_REFS),
    "typescript": (TYPESCRIPT_DEFS, TYPESCRIPT_REFS),
    "tsx": (TYPESCRIPT_DEFS, TSX_REFS),
    "go": (GO_DEFS, GO_REFS),
    "rust": (RUST_DEFS, RUST_REFS),
    "java": (JAVA_DEFS, JAVA_REFS),
    "c": (C_DEFS, C_REFS),
    "cpp": (CPP_DEFS, CPP_REFS),
}
