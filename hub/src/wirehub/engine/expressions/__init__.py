"""The expression language (JMESPath) with the hub's functions, evaluated within bounds."""
