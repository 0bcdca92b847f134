"""DynamoDB's expression languages: tokenizer, parser, evaluator, updates, projections, legacy forms.

``ExpressionContext`` parses every expression of one request against its ExpressionAttributeNames
and ExpressionAttributeValues; ``compile_condition`` turns a condition tree into a predicate;
``apply_update`` computes an updated item; ``project`` trims an item to a projection.
"""

from awsemu.services.dynamodb.expressions.evaluate import compile_condition, resolve_path
from awsemu.services.dynamodb.expressions.parser import ExpressionContext
from awsemu.services.dynamodb.expressions.projection import project
from awsemu.services.dynamodb.expressions.update import apply_update

__all__ = ["ExpressionContext", "compile_condition", "resolve_path", "project", "apply_update"]
