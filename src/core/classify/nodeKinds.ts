/**
 * Node kinds, across the shipped grammars, grouped by what the classifier asks of them. Names
 * that a grammar does not have simply never match.
 */

export const FUNCTION_KINDS = new Set([
  'function_declaration',
  'function_definition',
  'function_expression',
  'arrow_function',
  'generator_function_declaration',
  'generator_function',
  'method_definition',
  'method_declaration',
  'constructor_declaration',
  'function_item',
  'func_literal',
  'method',
  'singleton_method',
  'lambda_expression',
  'local_function_statement',
  'anonymous_function',
  'lambda',
]);

export const CLASS_KINDS = new Set([
  'class_declaration',
  'class_definition',
  'class_specifier',
  'struct_specifier',
  'interface_declaration',
  'impl_item',
  'struct_item',
  'enum_item',
  'trait_item',
  'class',
  'module',
  'type_declaration',
  'record_declaration',
  'enum_declaration',
  'abstract_class_declaration',
  'namespace_definition',
]);

/** Nodes that hold a sequence of statements or members. */
export const BLOCK_KINDS = new Set([
  'statement_block',
  'block',
  'compound_statement',
  'class_body',
  'declaration_list',
  'field_declaration_list',
  'body_statement',
  'do_block',
  'function_body',
  'constructor_body',
  'interface_body',
  'enum_body',
  'switch_body',
  'case_clause',
  'do_group',
]);

const BRANCH_PREFIXES = ['if_', 'elif_', 'else_', 'for_', 'while_', 'do_', 'switch_', 'case_', 'catch_', 'except_', 'match_', 'when_', 'unless', 'until', 'rescue', 'conditional_expression', 'ternary_expression', 'select_statement', 'guard_'];

/** Branching constructs (if / loops / cases / catch / ternaries), for difficulty. */
export function isBranchKind(type: string): boolean {
  return BRANCH_PREFIXES.some((prefix) => type.startsWith(prefix)) || type === 'if' || type === 'while' || type === 'for';
}

export function isCommentKind(type: string): boolean {
  return type === 'comment' || type.endsWith('_comment') || type === 'line_comment' || type === 'block_comment';
}

/** String literals, whose content is text, not code (template substitutions are code again). */
export function isStringKind(type: string): boolean {
  return (
    type === 'string' ||
    type === 'string_literal' ||
    type === 'template_string' ||
    type === 'interpreted_string_literal' ||
    type === 'raw_string_literal' ||
    type === 'char_literal' ||
    type === 'character_literal' ||
    type === 'encapsed_string' ||
    type === 'heredoc_body' ||
    type === 'heredoc' ||
    type === 'raw_string' ||
    type === 'text_block' ||
    type === 'verbatim_string_literal' ||
    type === 'interpolated_string_expression' ||
    type === 'concatenated_string'
  );
}

export function isInterpolationKind(type: string): boolean {
  return (
    type === 'template_substitution' ||
    type === 'interpolation' ||
    type === 'expansion' ||
    type === 'command_substitution' ||
    type === 'simple_expansion'
  );
}

export function isIdentifierKind(type: string): boolean {
  return type.endsWith('identifier') || type === 'name' || type === 'variable_name' || type === 'constant';
}

/** Tokens that close a construct and sit one level out from its contents. */
export const CLOSING_TOKENS = new Set(['}', ')', ']', 'end', 'fi', 'done', 'esac', '});', '};']);
