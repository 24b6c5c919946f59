"""Telephony front ends that speak a PBX's own protocol: Asterisk's FastAGI and AMI."""
