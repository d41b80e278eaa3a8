"""Apple Podcasts categories (``itunes:category``), as Apple lists them for podcasters.

A category is written "Parent" or "Parent > Sub" (``choices`` lists both kinds, in Apple's
order); ``itunes`` turns one into what feedgen writes.
"""

from __future__ import annotations

SEPARATOR = " > "

APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": (
        "Books",
        "Design",
        "Fashion & Beauty",
        "Food",
        "Performing Arts",
        "Visual Arts",
    ),
    "Business": (
        "Careers",
        "Entrepreneurship",
        "Investing",
        "Management",
        "Marketing",
        "Non-Profit",
    ),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": (
        "Alternative Health",
        "Fitness",
        "Medicine",
        "Mental Health",
        "Nutrition",
        "Sexuality",
    ),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": (
        "Animation & Manga",
        "Automotive",
        "Aviation",
        "Crafts",
        "Games",
        "Hobbies",
        "Home & Garden",
        "Video Games",
    ),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": (
        "Business News",
        "Daily News",
        "Entertainment News",
        "News Commentary",
        "Politics",
        "Sports News",
        "Tech News",
    ),
    "Religion & Spirituality": (
        "Buddhism",
        "Christianity",
        "Hinduism",
        "Islam",
        "Judaism",
        "Religion",
        "Spirituality",
    ),
    "Science": (
        "Astronomy",
        "Chemistry",
        "Earth Sciences",
        "Life Sciences",
        "Mathematics",
        "Natural Sciences",
        "Nature",
        "Physics",
        "Social Sciences",
    ),
    "Society & Culture": (
        "Documentary",
        "Personal Journals",
        "Philosophy",
        "Places & Travel",
        "Relationships",
    ),
    "Sports": (
        "Baseball",
        "Basketball",
        "Cricket",
        "Fantasy Sports",
        "Football",
        "Golf",
        "Hockey",
        "Rugby",
        "Running",
        "Soccer",
        "Swimming",
        "Tennis",
        "Volleyball",
        "Wilderness",
        "Wrestling",
    ),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}


def choices() -> list[str]:
    """Every category one may pick: each parent, then its subcategories."""
    found: list[str] = []
    for parent, subs in APPLE_CATEGORIES.items():
        found.append(parent)
        found += [f"{parent}{SEPARATOR}{sub}" for sub in subs]
    return found


def is_category(value: str) -> bool:
    parent, _, sub = value.partition(SEPARATOR)
    subs = APPLE_CATEGORIES.get(parent)
    return subs is not None and (not sub or sub in subs)


def itunes(value: str) -> dict[str, str]:
    """What feedgen's ``itunes_category`` takes: ``{"cat": ..., "sub": ...}``."""
    parent, _, sub = value.partition(SEPARATOR)
    return {"cat": parent, "sub": sub} if sub else {"cat": parent}
