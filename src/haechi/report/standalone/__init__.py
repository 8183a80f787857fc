"""Files haechi writes into packages as they are (they import nothing from haechi)."""
