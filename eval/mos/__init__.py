"""Blinded MOS studies (Table 4): packets for raters, then MOS with 95% CIs from their ratings."""
