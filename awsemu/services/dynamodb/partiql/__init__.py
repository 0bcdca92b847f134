"""PartiQL for DynamoDB: ``parser`` turns a statement into expression trees, ``execute`` runs it."""
