"""Rendition filter specs shared by querysets (prefetch) and templates (render)."""

CARD = "fill-640x360-c75|format-webp"
CARD_SMALL = "fill-160x90-c75|format-webp"
LEAD = "fill-1280x720-c75|format-webp"
LEAD_SMALL = "fill-800x450-c75|format-webp"
AVATAR = "fill-96x96|format-webp"
AVATAR_LARGE = "fill-240x240|format-webp"

CARD_RENDITIONS = (CARD, CARD_SMALL)
ARTICLE_RENDITIONS = (LEAD, LEAD_SMALL)
AUTHOR_RENDITIONS = (AVATAR, AVATAR_LARGE)
