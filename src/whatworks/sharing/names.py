"""Common first names and surnames in England and Wales, for synthetic agency records.

A small hand-made list, not an official table: no package on PyPI ships the ONS baby-names
or surname counts for offline use. The order of each list follows the ranks commonly
reported for England and Wales (ONS "Baby names in England and Wales", births 2005-2020,
Open Government Licence; surname ranks as widely published), and the weights are a Zipf
law on rank (weight = 1 / rank ** exponent), an approximation of the real frequencies.
Surnames beyond the common list come from compounds of English place-name parts
(`rare_surnames()`), so most children have an uncommon surname, as in life.
"""

from __future__ import annotations

from functools import cache


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


BOYS = _words(
    "Oliver Jack Harry George Noah Charlie Jacob Thomas Oscar William James Leo Alfie "
    "Henry Joshua Freddie Archie Ethan Isaac Alexander Joseph Edward Samuel Max Daniel "
    "Arthur Lucas Mohammed Logan Theo Harrison Benjamin Mason Sebastian Finley Adam Dylan "
    "Zachary Riley Teddy Theodore David Toby Jake Louie Elijah Reuben Arlo Hugo Luca "
    "Jaxon Matthew Harvey Reggie Michael Harley Jude Albert Tommy Luke Stanley Jenson "
    "Frankie Jayden Gabriel Elliot Ryan Kai Nathan Callum Tyler Liam Connor Kyle Lewis "
    "Jamie Robert Christopher Frederick Alfred Rory Aaron Owen Ben Caleb Ibrahim Yusuf"
)
GIRLS = _words(
    "Olivia Amelia Isla Ava Emily Sophia Grace Mia Poppy Ella Lily Evie Isabella Sophie "
    "Ivy Freya Harper Willow Charlotte Jessica Rosie Daisy Alice Florence Elsie Isabelle "
    "Phoebe Evelyn Sienna Matilda Ruby Chloe Millie Holly Lucy Scarlett Erin Layla Maisie "
    "Imogen Elizabeth Emma Hannah Katie Megan Lauren Amber Eleanor Esme Zara Maya Aisha "
    "Maryam Fatima Abigail Rebecca Bethany Leah Niamh Caitlin Molly Summer Lexi Eva Ellie "
    "Georgia Amelie Harriet Darcey Lola Mollie Violet Ada Robyn Paige Nicole Jasmine Aimee"
)
COMMON_SURNAMES = _words(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel "
    "Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison "
    "Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths "
    "Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox "
    "Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster "
    "Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer "
    "Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray "
    "Dixon Harvey"
)
_PLACE_STARTS = _words(
    "Ash Black Brad Brook Carl Cress Dun East Fair Green Hart Hol Kings Lang Mar New North "
    "Oak Pen Red Rad South Stan Thorn Ux War West Whit Wick Wood Ather Brig Chad Crom Ed "
    "Elm Farn Gold Hay Ling"
)
_PLACE_ENDS = _words("ford ley ton well wood field man by ham worth combe more stead bridge dale")

#: Formal first name -> the short forms agencies record (Bill for William).
NICKNAMES = {
    "William": ("Bill", "Will", "Billy"),
    "Thomas": ("Tom", "Tommy"),
    "James": ("Jim", "Jamie"),
    "Alexander": ("Alex", "Sandy"),
    "Samuel": ("Sam", "Sammy"),
    "Joshua": ("Josh",),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Oliver": ("Ollie", "Olly"),
    "Benjamin": ("Ben", "Benji"),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Frederick": ("Fred", "Freddie"),
    "Alfred": ("Alfie", "Alf"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Joseph": ("Joe", "Joey"),
    "Christopher": ("Chris",),
    "Michael": ("Mike", "Mikey"),
    "Jacob": ("Jake",),
    "Zachary": ("Zac", "Zach"),
    "Sebastian": ("Seb",),
    "Theodore": ("Theo", "Teddy"),
    "Nathan": ("Nate",),
    "Charlotte": ("Lottie", "Charlie"),
    "Elizabeth": ("Beth", "Liz", "Lizzie", "Betty"),
    "Isabella": ("Bella", "Izzy"),
    "Isabelle": ("Izzy", "Belle"),
    "Jessica": ("Jess",),
    "Rebecca": ("Becky", "Becca"),
    "Abigail": ("Abbie", "Abby"),
    "Amelia": ("Millie", "Mia"),
    "Olivia": ("Liv", "Livvy"),
    "Eleanor": ("Ellie", "Nell"),
    "Matilda": ("Tilly", "Tilda"),
    "Florence": ("Flo", "Florrie"),
    "Harriet": ("Hattie",),
    "Katie": ("Kate",),
    "Evelyn": ("Evie",),
    "Imogen": ("Immy",),
    "Georgia": ("George",),
    "Margaret": ("Maggie", "Peggy"),
}


@cache
def rare_surnames() -> tuple[str, ...]:
    """Plausible uncommon surnames (Ashford, Kingsley, ...): the long tail of surnames."""
    return tuple(start + end for start in _PLACE_STARTS for end in _PLACE_ENDS)


@cache
def formal_names() -> dict[str, str]:
    """Short form (lower case) -> formal name (lower case), for the linkage's nickname level;
    a short form of several names (Izzy) maps to the first listed."""
    found: dict[str, str] = {}
    for formal, shorts in NICKNAMES.items():
        for short in shorts:
            found.setdefault(short.lower(), formal.lower())
    return found
