"""ODCS data contracts, the contract gate (Great Expectations inside DuckDB) and the atomic publish."""

from countyhub.contracts.odcs import Column, Contract, ContractError, Rule, load_contract, load_contracts

__all__ = ["Column", "Contract", "ContractError", "Rule", "load_contract", "load_contracts"]
