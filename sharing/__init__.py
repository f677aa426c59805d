"""The sharing stage: who is asking (principals), what they may read (grants, policy), masked reads and the audit log."""
