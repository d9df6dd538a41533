"""The policy file -> a frozen, validated Config. No AWS, no clock."""
