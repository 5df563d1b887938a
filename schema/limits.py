"""Query limits (tokens, depth, aliases) whose errors carry LIMIT_EXCEEDED themselves.

Each refusal is a GraphQLError whose `original_error` is a `LimitExceeded`, so error
formatting reads the code from the error, not from its wording. Depth and aliases are
counted as executed (a fragment spread counts its fragment each time), with each
fragment measured once, so a document of nested spreads costs linear time to check.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Source,
    ValidationRule,
    parse,
)
from graphql.language import Lexer, TokenKind
from graphql.language.parser import MAX_NESTING_DEPTH

from resolvers.errors import LimitExceeded

_OPENING = frozenset({TokenKind.BRACE_L, TokenKind.PAREN_L, TokenKind.BRACKET_L})
_CLOSING = frozenset({TokenKind.BRACE_R, TokenKind.PAREN_R, TokenKind.BRACKET_R})


def limit_error(message: str, nodes: Any = None) -> GraphQLError:
    return GraphQLError(message, nodes, original_error=LimitExceeded(message))


def _limit_passed(query: str, max_tokens: int) -> str | None:
    """Why a document the parser refused is over a limit, if it is: more than `max_tokens`
    tokens (comments included, as the parser counts them), or brackets nested deeper than
    the parser goes. One pass, over at most `max_tokens + 1` tokens."""
    lexer = Lexer(Source(query))
    start = lexer.token
    depth = deepest = 0
    try:
        for _ in range(max_tokens + 1):
            kind = lexer.advance().kind
            if kind is TokenKind.EOF:
                break
            if kind in _OPENING:
                depth += 1
                deepest = max(deepest, depth)
            elif kind in _CLOSING:
                depth -= 1
    except GraphQLSyntaxError:
        pass
    count = 0
    token = start.next
    while token is not None and token.kind is not TokenKind.EOF:
        count += 1
        token = token.next
    if count > max_tokens:
        return f"The document has more than {max_tokens} tokens"
    if deepest > MAX_NESTING_DEPTH:
        return "The document is nested too deeply"
    return None


def parse_limited(query: str, max_tokens: int) -> DocumentNode:
    """Parse, refusing with LIMIT_EXCEEDED a document of more than `max_tokens` tokens or
    nested deeper than the parser goes (far past the depth limit), which the parser
    itself reports as a syntax error."""
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError:
        refusal = _limit_passed(query, max_tokens)
        if refusal is not None:
            raise limit_error(refusal) from None
        raise


class _Measure:
    """Nesting depth and alias count of a document's selections, each fragment once."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._depths: dict[str, int] = {}
        self._aliases: dict[str, int] = {}

    def depth(self, selections: SelectionSetNode | None) -> int:
        """Levels of fields below this selection set; introspection fields count 0."""
        if selections is None:
            return 0
        deepest = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if selection.selection_set and not selection.name.value.startswith("__"):
                    deepest = max(deepest, 1 + self.depth(selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self.depth(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(
                    deepest, self._fragment(selection.name.value, self._depths, self.depth)
                )
        return deepest

    def aliases(self, selections: SelectionSetNode | None) -> int:
        if selections is None:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += (selection.alias is not None) + self.aliases(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += self.aliases(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value, self._aliases, self.aliases)
        return total

    def _fragment(self, name: str, memo: dict[str, int], measure: Any) -> int:
        if name in memo:
            return memo[name]
        fragment = self.fragments.get(name)
        memo[name] = 0  # a cycle (refused by validation anyway) counts nothing
        value: int = measure(fragment.selection_set) if fragment else 0
        memo[name] = value
        return value


def depth_rule(max_depth: int) -> type[ValidationRule]:
    class DepthLimit(ValidationRule):
        def enter_document(self, document: DocumentNode, *_: object) -> None:
            measure = _Measure(document)
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                if measure.depth(definition.selection_set) > max_depth:
                    name = definition.name.value if definition.name else "The operation"
                    self.report_error(
                        limit_error(f"{name} is deeper than {max_depth} levels", [definition])
                    )

    return DepthLimit


def alias_rule(max_aliases: int) -> type[ValidationRule]:
    class AliasLimit(ValidationRule):
        def enter_document(self, document: DocumentNode, *_: object) -> None:
            measure = _Measure(document)
            total = sum(
                measure.aliases(definition.selection_set)
                for definition in document.definitions
                if isinstance(definition, OperationDefinitionNode)
            )
            if total > max_aliases:
                self.report_error(
                    limit_error(f"The document uses {total} aliases; at most {max_aliases}")
                )

    return AliasLimit
