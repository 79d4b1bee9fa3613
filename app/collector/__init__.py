"""The collector: scheduled pulls from the exchange into the store."""
