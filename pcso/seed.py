"""Deterministic demo data: `flask seed-demo`.

Imports the 21 Trafford wards as beats and the Trafford schools, creates one demo user per
role (fixed collar numbers and passwords, printed at the end) and N entries of every kind
over the last D days. The same --seed on the same day gives the same data: every choice
comes from one random.Random(seed), and time is anchored to the latest 06:00 UTC (so the
"demo day" runs from 06:00 to 06:00 UTC).

Safety: a database holding anything but demo data (a user whose collar number is not a
demo one, or an entry by such a user) is refused without --force, and so is
BEATBOOK_ENV=production. Running again on a demo-only database replaces the demo entries.
"""
from __future__ import annotations

import math
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from . import audit
from .beats.services import assign_beats, beat_index, import_beats
from .extensions import db
from .boundaries import parse_boundaries
from .geo import DATA_DIR
from .postcodes import DEFAULT_POSTCODES_PATH, PostcodePoint, load_postcode_book
from .models import (
    AsbIncident, AsbType, AuditAction, Beat, BeatPriority, Entry, EntryKind, EntryReview, EntryRevision, EntryStatus,
    ExploitationIndicator, ReviewDecision, Shift,
    HandlingCode, IntelAssessment, IntelligenceReport, InvolvementRole, Link, LinkRole, LocationSource, NsirCategory,
    Patrol, PatrolMode, Person, RiskLevel, Role, School, SchoolVisit, SchoolVisitType, SecurityMarking,
    SourceEvaluation, User, Vehicle, WelfareCheck, WelfareVisitType, name_key,
)
from .schools.services import import_schools
from .search.index import index_entries
from .timeutil import from_london, to_london, utcnow

WARDS_PATH = DATA_DIR / "trafford_ward_2023_generalised.geojson"
SCHOOLS_PATH = DATA_DIR / "trafford_schools_and_colleges.csv"
DISTRICT = "Trafford"
ANCHOR_HOUR_UTC = 6


# --- Demo users -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    collar_number: str
    display_name: str
    role: Role
    password: str
    beat_names: tuple[str, ...] = ()


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("PC1001", "Priya Shah", Role.PCSO, "pcso-demo-pass",
             ("Stretford & Humphrey Park", "Gorse Hill & Cornbrook", "Old Trafford")),
    DemoUser("PC1002", "Tom Whitworth", Role.PCSO, "pcso2-demo-pass",
             ("Altrincham", "Timperley Central", "Broadheath")),
    DemoUser("SG2001", "Claire Holroyd", Role.SUPERVISOR, "sergeant-demo-pass"),  # beats: both PCSOs'
    DemoUser("AN3001", "Marcus Bell", Role.ANALYST, "analyst-demo-pass"),
    DemoUser("SL4001", "Fiona McLean", Role.SAFEGUARDING, "safeguarding-demo-pass"),
    DemoUser("AD5001", "Gareth Lloyd", Role.ADMIN, "admin-demo-pass"),
)
DEMO_COLLARS: tuple[str, ...] = tuple(u.collar_number for u in DEMO_USERS)
# Share of the entries by kind; welfare checks follow the SPOC schedule and take up to their share.
KIND_SHARE = {EntryKind.PATROL: 0.28, EntryKind.ASB_INCIDENT: 0.32, EntryKind.SCHOOL_VISIT: 0.17,
              EntryKind.WELFARE_CHECK: 0.15, EntryKind.INTELLIGENCE_REPORT: 0.08}
# Of the intelligence reports, the share raised from an ASB incident and from a welfare check.
RAISED_SHARE = {EntryKind.ASB_INCIDENT: 0.3, EntryKind.WELFARE_CHECK: 0.2}


# --- Word lists (fictional people; real Trafford streets and places) --------------------------

# (weight, female first names, male first names, surnames): names that go together.
NAME_GROUPS = (
    (10, ("Margaret", "Joan", "Sandra", "Karen", "Julie", "Tracey", "Leanne", "Chloe", "Jade", "Bethany", "Emma"),
     ("David", "Paul", "Stephen", "Anthony", "Gary", "Dean", "Lee", "Kyle", "Connor", "Liam", "Jordan", "Craig"),
     ("Walsh", "Hughes", "Taylor", "Brown", "Wright", "Holt", "Ashworth", "Booth", "Whittaker", "Barlow", "Kenyon",
      "Lomax", "Pickering", "Heywood", "Birchall", "Mellor", "Greenhalgh", "Royle", "Ogden", "Cunliffe")),
    (3, ("Aisha", "Zainab", "Nasreen", "Shazia", "Amina"), ("Mohammed", "Tariq", "Imran", "Bilal", "Usman"),
     ("Khan", "Hussain", "Ahmed", "Iqbal", "Akhtar")),
    (1, ("Priya", "Sunita"), ("Ravi", "Sunil"), ("Patel", "Sharma", "Mistry")),
    (1, ("Agnieszka", "Ewa"), ("Tomasz", "Piotr"), ("Nowak", "Wojcik", "Mazur")),
    (1, ("Grace", "Chioma"), ("Chidi", "Tunde"), ("Okafor", "Adeyemi", "Okonkwo")),
    (2, ("Marcia", "Simone"), ("Winston", "Delroy", "Marcus"), ("Campbell", "Thompson", "Clarke", "Francis")),
    (2, ("Siobhan", "Kathleen"), ("Declan", "Patrick"), ("Murphy", "O'Brien", "McCann", "Doyle", "Dunne")),
)
STREETS = {
    "Stretford & Humphrey Park": ("Chester Road", "King Street", "Barton Road", "Kingsway", "Derbyshire Lane",
                                  "Edge Lane", "Sandy Lane", "Urmston Lane"),
    "Gorse Hill & Cornbrook": ("Chester Road", "Talbot Road", "Great Stone Road", "Cavendish Road",
                               "Railway Road", "Gorse Crescent", "Burleigh Road"),
    "Old Trafford": ("Shrewsbury Street", "Ayres Road", "Seymour Grove", "Northumberland Road",
                     "Clifford Road", "Milton Street", "Skerton Road"),
    "Altrincham": ("Moss Lane", "George Street", "Stamford New Road", "Railway Street", "Regent Road",
                   "Oakfield Road", "Lloyd Street"),
    "Timperley Central": ("Park Road", "Stockport Road", "Thorley Lane", "Wood Lane", "Moss Lane",
                          "Shaftesbury Avenue"),
    "Broadheath": ("Manchester Road", "Atlantic Street", "Sinderland Road", "Lindsell Road", "Navigation Road",
                   "Craven Road"),
}
GENERIC_STREETS = ("Church Road", "Station Road", "Park Road", "Manchester Road", "Moss Lane", "Cross Street")
PLACES = {
    "Stretford & Humphrey Park": ("Stretford Mall", "Turn Moss playing fields", "Stretford tram stop",
                                  "King Street shops"),
    "Gorse Hill & Cornbrook": ("Gorse Hill Park", "Trafford Bar tram stop", "White City Retail Park",
                               "Chester Road subway"),
    "Old Trafford": ("Seymour Park", "Ayres Road shops", "Hullard Park", "Shrewsbury Street precinct"),
    "Altrincham": ("Altrincham Interchange", "Altrincham Market", "Stamford New Road precinct",
                   "Goose Green"),
    "Timperley Central": ("Timperley Village", "Timperley tram stop", "Thorley Lane shops",
                          "Timperley recreation ground"),
    "Broadheath": ("Altrincham Retail Park", "Bridgewater Canal towpath", "Navigation Road tram stop",
                   "Broadheath Retail Park"),
}
GENERIC_PLACES = ("the local shops", "the park", "the tram stop", "the precinct")
NEAR_TEMPLATES = ("outside {n} {street}", "{street}, near the junction with {street2}", "rear alley off {street}",
                  "{place}", "shops on {street}", "bus stop on {street}", "{place}, {street} side")

PATROL_PURPOSES = (
    "Hotspot: vehicle crime on {street} overnight",
    "High visibility near {place} after shop thefts",
    "Reassurance around {street} after reports of youths on off-road bikes",
    "ASB hotspot: {place} after dark",
    "School gate patrol at home time, {street}",
    "Evening economy: licensed premises on {street}",
    "Bin fire prevention: alleyways off {street}",
    "Street drinking hotspot: {place}",
    "Burglary reassurance: door-knocking on {street} after two break-ins",
    "Catalytic converter thefts: car parks near {place}",
    "Speedwatch support with volunteers on {street}",
    "Beat surgery and walkabout: {place}",
)
PATROL_NOTES = (
    "Spoke to {k} residents; advice given on vehicle security and catalytic converter marking. No damaged "
    "vehicles found.",
    "Area quiet. Group of {k} youths at {place} moved on without issue; names not taken.",
    "Shop staff at {place} report fewer thefts since last week; handed out shop-watch leaflets.",
    "Checked the alleyways: two overflowing bins reported to Trafford Council for collection.",
    "Visible presence at {place}; spoke to the manager, no issues today.",
    "Found an insecure garage on {street}: owner contacted and advised.",
    "Cans and bottles cleared from the bench area at {place}; no drinkers present.",
    "Spoke to {k} members of the public, mostly about parking and e-scooters on the pavement.",
)

class AsbKind(NamedTuple):
    """One kind of incident. The NSIR category follows the description: targeted at someone ->
    personal; the community at large -> nuisance; the surroundings -> environmental."""

    asb_type: AsbType
    category: NsirCategory
    description: str
    summary: str
    suspects: str  # key into SUSPECTS, or "" when nobody is seen
    actions: tuple[str, ...]


ADVICE = "Words of advice given; group moved on."
NO_TRACE = "Area checked, no trace of those involved on arrival."
ASB_TEAM = "Referred to Trafford Council ASB team for a joint visit."
DIARY = "Reporter given the reference and diary sheets; extra patrols planned this week."
COUNCIL = "Reported to Trafford Council for removal."
ASB_KINDS = (
    AsbKind(AsbType.NUISANCE_NEIGHBOURS, NsirCategory.PERSONAL,
            "Reporter says the neighbours on {street} played loud music and shouted until 2am, and banged on "
            "the shared wall when asked to stop. Fourth night this week.",
            "Loud music and shouting from neighbours on {street}", "neighbour",
            (ASB_TEAM, DIARY, "Contacted the housing provider about the tenancy.")),
    AsbKind(AsbType.NUISANCE_NEIGHBOURS, NsirCategory.PERSONAL,
            "Ongoing dispute over parking on {street}: neighbour blocking the reporter's drive and swearing at "
            "the reporter in front of their children.", "Neighbour dispute over parking on {street}, verbal abuse",
            "neighbour",
            (DIARY, "Both parties spoken to; mediation offered through Trafford Council.")),
    AsbKind(AsbType.MALICIOUS_COMMUNICATIONS, NsirCategory.PERSONAL,
            "Victim receiving abusive messages on social media from a former friend who lives on {street}; "
            "screenshots shown to the PCSO.", "Abusive messages on social media, {street}", "adult",
            ("Screenshots saved; advice on blocking and reporting given.", "Letter of warning to be delivered "
             "to the sender's address.")),
    AsbKind(AsbType.ROWDY_BEHAVIOUR, NsirCategory.PERSONAL,
            "Group of youths knocking on an elderly resident's door and windows on {street} and running off. "
            "Victim frightened to go out after dark.", "Youths targeting elderly resident on {street}", "youth",
            (DIARY, "Door cam fitted by Trafford Council; youths identified and parents visited.", NO_TRACE)),
    AsbKind(AsbType.ROWDY_BEHAVIOUR, NsirCategory.NUISANCE,
            "Group of about {k} youths shouting, swearing and riding bikes at pedestrians at {place}.",
            "Rowdy youths at {place}", "youth",
            (ADVICE, NO_TRACE, "Dispersal powers considered with the duty inspector; group left before "
             "authority was needed.")),
    AsbKind(AsbType.NOISE, NsirCategory.NUISANCE,
            "House party on {street} with amplified music until 3am; several calls from the street.",
            "Late-night party noise on {street}", "neighbour",
            ("Occupier spoken to; music turned down.", "Referred to Trafford Council noise team.")),
    AsbKind(AsbType.STREET_DRINKING, NsirCategory.NUISANCE,
            "{k} adults drinking on the benches at {place}, shouting at passers-by; cans left behind.",
            "Street drinking at {place}", "adult",
            ("Alcohol seized under the PSPO; group moved on.", ADVICE)),
    AsbKind(AsbType.BEGGING_VAGRANCY, NsirCategory.NUISANCE,
            "Male begging outside the cash machine on {street}, approaching customers.",
            "Begging at the cash machine on {street}", "",
            ("Outreach team details given; referred to Trafford Council's homelessness team.", ADVICE)),
    AsbKind(AsbType.FIREWORKS, NsirCategory.NUISANCE,
            "Fireworks let off in the street and thrown towards cars on {street} by a group of teenagers.",
            "Fireworks thrown at cars on {street}", "youth", (ADVICE, NO_TRACE)),
    AsbKind(AsbType.VEHICLE_NUISANCE, NsirCategory.NUISANCE,
            "Cars meeting in the car park at {place}, revving engines and doing doughnuts.",
            "Car meet at {place}, revving and doughnuts", "driver",
            ("Drivers spoken to; section 59 warnings considered.", NO_TRACE)),
    AsbKind(AsbType.VEHICLE_NUISANCE, NsirCategory.NUISANCE,
            "Off-road bike ridden on the pavement and through {place}; rider wearing a balaclava.",
            "Off-road bike ridden through {place}", "youth",
            (NO_TRACE, "Passed to the off-road bike team with the route taken.")),
    AsbKind(AsbType.HOAX_CALLS, NsirCategory.NUISANCE,
            "Repeated hoax 999 calls traced to the phone box on {street}.", "Hoax 999 calls from {street}", "",
            (NO_TRACE, "Phone box reported to the operator; patrols at school home time.")),
    AsbKind(AsbType.SOLVENT_MISUSE, NsirCategory.NUISANCE,
            "Nitrous oxide canisters being used by a group in a parked car on {street}.",
            "Nitrous oxide use in a parked car, {street}", "driver",
            ("Canisters seized; occupants given words of advice.", NO_TRACE)),
    AsbKind(AsbType.TRESPASS, NsirCategory.NUISANCE,
            "Youths climbing onto the roof of the closed unit at {place}; site manager called it in.",
            "Youths on the roof of an empty unit, {place}", "youth",
            (ADVICE, "Site manager advised on securing the fencing.")),
    AsbKind(AsbType.ANIMAL_PROBLEMS, NsirCategory.NUISANCE,
            "Large dog off its lead at {place} jumping up at children; owner refused to put it on a lead.",
            "Dog out of control at {place}", "dog",
            ("Owner given words of advice; referred to the council dog warden.",)),
    AsbKind(AsbType.LITTERING_DRUGS, NsirCategory.ENVIRONMENTAL,
            "Used needles and foil found in the alley off {street}; area cordoned and council called.",
            "Drug paraphernalia in the alley off {street}", "", (COUNCIL,)),
    AsbKind(AsbType.LITTERING_DRUGS, NsirCategory.ENVIRONMENTAL,
            "Fly-tipped mattresses and rubbish bags blocking the back alley off {street}.",
            "Fly-tipping in the back alley off {street}", "", (COUNCIL, "Bags searched for an address; "
                                                                "passed to the council's enforcement officer.")),
    AsbKind(AsbType.ABANDONED_VEHICLE, NsirCategory.ENVIRONMENTAL,
            "Vehicle parked on {street} for three weeks, untaxed, flat tyres, rear window smashed.",
            "Abandoned untaxed vehicle on {street}", "", ("Checked on PNC: no report as stolen. " + COUNCIL,)),
)
SUSPECTS = {  # (gender, description): the name given goes with the description
    "youth": (("m", "Male, about 16, black North Face jacket, on an e-scooter"),
              ("m", "Male, 15-17, grey tracksuit, black balaclava"),
              ("m", "Group leader: male, about 17, red puffer jacket"),
              ("m", "Male, about 15, green jacket, on a bicycle"), ("f", "Female, about 14, pink hoodie, school bag")),
    "neighbour": (("f", "Female, about 40, long dark hair, lives at the address"),
                  ("m", "Male, 50s, grey beard, lives next door"), ("m", "Male, 30s, lives in the flat above")),
    "adult": (("m", "Male, 30s, thin build, blue jeans and black coat"), ("m", "Male, 50s, grey beard, walking stick"),
              ("f", "Female, 40s, blonde hair, pink coat")),
    "driver": (("m", "Male, about 20, white hoodie, driver"), ("m", "Male, about 19, black cap, driver"),
               ("m", "Male, early 20s, front passenger, filming on his phone")),
    "dog": (("m", "Male, 30s, shaved head, with a large grey dog"),
            ("f", "Female, 20s, with a brown Staffordshire bull terrier")),
}
VEHICLES = (
    "Silver Vauxhall Corsa", "Black Audi A3, tinted windows", "White Ford Transit van", "Blue Ford Fiesta",
    "Grey BMW 1 Series", "Red Nissan Micra", "Black Mercedes C-Class", "White Toyota Prius, private hire",
    "Black Volkswagen Golf", "Green Honda CRF off-road bike, no plates seen",
)
VRM_AREAS = ("MA", "MF", "MJ", "ML", "MT", "MW", "MX", "MY", "DK", "DE", "YB", "BD")
VRM_AGES = ("58", "09", "61", "12", "64", "15", "66", "17", "68", "19", "69", "70", "21", "71", "72", "73", "24")
VRM_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"

SCHOOL_TOPICS = {  # (topic, visit type, year groups wanted: "lower", "upper", "all", "staff", "parents")
    "secondary": (
        ("Knife Crime Awareness Week assembly", SchoolVisitType.ASSEMBLY, "lower"),
        ("Online safety talk: sharing images and sextortion", SchoolVisitType.TALK, "upper"),
        ("County lines and criminal exploitation awareness", SchoolVisitType.TALK, "upper"),
        ("Vaping, e-scooters and the law: lunchtime drop-in", SchoolVisitType.DROP_IN, "all"),
        ("Bike marking drop-in", SchoolVisitType.DROP_IN, "all"),
        ("ASB and its consequences workshop", SchoolVisitType.TALK, "lower"),
        ("Meeting with the DSL: groups gathering after school", SchoolVisitType.MEETING, "staff"),
        ("Hate crime awareness session", SchoolVisitType.TALK, "upper"),
        ("Fireworks and bonfire safety assembly", SchoolVisitType.ASSEMBLY, "lower"),
    ),
    "primary": (
        ("Road safety at the school gate", SchoolVisitType.ASSEMBLY, "all"),
        ("Online safety talk", SchoolVisitType.TALK, "upper"),
        ("'People who help us': meet the PCSO", SchoolVisitType.TALK, "lower"),
        ("Bike marking drop-in", SchoolVisitType.DROP_IN, "parents"),
        ("Parking at drop-off: meeting with the head teacher", SchoolVisitType.MEETING, "staff"),
        ("Anti-bullying week assembly", SchoolVisitType.ASSEMBLY, "all"),
        ("Moving up to high school: staying safe", SchoolVisitType.TALK, "upper"),
    ),
}
SECONDARY_GROUPS = tuple(f"Y{n}" for n in range(7, 14))
SCHOOL_FOLLOW_UPS = (
    "DSL to send dates for a follow-up session with the next year group.",
    "Return next term for bike marking.",
    "Head teacher asked for a PCSO presence at home time on Fridays.",
    "Two pupils asked how to report online bullying: signposted to the DSL.",
    "Posters and leaflets left at reception.",
    "Parking complaints passed to Trafford Council parking enforcement.",
)

# The SPOC's list: fictional children. (name, age at the anchor, SPOC index, beat index, profile, base risk)
CHILDREN = (
    ("Kyle Mellor", 15, 0, 0, "county_lines", RiskLevel.HIGH),
    ("Jade Royle", 14, 1, 0, "cse", RiskLevel.HIGH),
    ("Reece Ogden", 16, 0, 2, "county_lines", RiskLevel.MEDIUM),
    ("Tyler Doyle", 13, 1, 1, "missing", RiskLevel.MEDIUM),
    ("Amira Hussain", 14, 0, 1, "cse", RiskLevel.MEDIUM),
    ("Callum Birchall", 15, 1, 2, "improving", RiskLevel.LOW),
    ("Leon Campbell", 16, 0, 0, "missing", RiskLevel.HIGH),
    ("Ellie Barlow", 13, 1, 0, "improving", RiskLevel.LOW),
    ("Dominik Nowak", 14, 0, 2, "county_lines", RiskLevel.MEDIUM),
    ("Skye Heywood", 15, 1, 1, "cse", RiskLevel.MEDIUM),
    ("Jayden Okafor", 12, 0, 1, "improving", RiskLevel.LOW),
    ("Mason Greenhalgh", 16, 1, 2, "missing", RiskLevel.MEDIUM),
)
PROFILE_INDICATORS = {
    "county_lines": (ExploitationIndicator.NEW_PHONE, ExploitationIndicator.MONEY_OR_CLOTHES,
                     ExploitationIndicator.OLDER_ASSOCIATES, ExploitationIndicator.UNEXPLAINED_TRAVEL,
                     ExploitationIndicator.DRUGS, ExploitationIndicator.SCHOOL_ATTENDANCE),
    "cse": (ExploitationIndicator.NEW_PHONE, ExploitationIndicator.OLDER_ASSOCIATES,
            ExploitationIndicator.MONEY_OR_CLOTHES, ExploitationIndicator.SCHOOL_ATTENDANCE),
    "missing": (ExploitationIndicator.MISSING_SINCE_LAST_VISIT, ExploitationIndicator.UNEXPLAINED_TRAVEL,
                ExploitationIndicator.OLDER_ASSOCIATES, ExploitationIndicator.INJURIES),
    "improving": (ExploitationIndicator.SCHOOL_ATTENDANCE,),
}
CHILD_WORDS = {
    "county_lines": ("I'm just helping my mate out, it's nothing.", "They said I owe them for the phone.",
                     "I went to Blackpool with my cousin, that's all.", "I don't want to talk about it."),
    "cse": ("He's just a friend, he's 19, he gives me lifts.", "I'm fine, stop asking.",
            "I don't want to go back to that flat."),
    "missing": ("I stayed at my mate's, I didn't think anyone would worry.", "I just needed to get out of the house.",
                "I slept at a friend's in Sale, I had my phone off."),
    "improving": ("I've been going to school more, Miss says I'm doing better.",
                  "Football's helping, I train twice a week.", "I'm not hanging round with them lot any more."),
}
OBSERVATIONS = {
    "county_lines": ("Wearing new designer trainers (approx £150) that mum cannot account for. Second phone seen.",
                     "Appeared tired and withdrawn; cash in his room according to mum.",
                     "Smell of cannabis in the bedroom; evasive about where he was at the weekend."),
    "cse": ("New phone and clothes; mum reports older males collecting her in a car.",
            "Quiet and guarded; would not say who bought the new phone.",
            "Attendance at school down to 62% this half term."),
    "missing": ("Returned after 2 nights away; small graze on hand, says from falling off a bike.",
                "Tired and hungry on return; would not say where he stayed.",
                "Calm, engaged well; agreed to keep his phone on."),
    "improving": ("Engaged well and was chatty. Attendance up to 91%.",
                  "Settled at home; mum positive about the last month.",
                  "Joined a boxing club in Stretford; proud of it."),
}
# Intelligence: (summary, what was seen or said, the officer's opinion kept apart). Names are the subjects',
# never the source's; the source, where recorded, is in INTEL_SOURCES (the restricted field).
VEHICLE_INTEL = (
    ("{vrm} meeting youths on bikes, {street}",
     "{vehicle} {vrm} parked on {street} between 8pm and 10pm on at least four evenings in the last fortnight. "
     "Youths on bikes ride up to the driver's window and leave within a minute.",
     "Officer's assessment: consistent with street-level dealing. Not seen by the officer."),
    ("{vrm} used by the group at {place}",
     "{vehicle} {vrm} drops off and collects the same group at {place} most Friday nights. The driver waits with "
     "the engine running.",
     "Officer's assessment: the vehicle may be moving people between Trafford and Manchester city centre."),
    ("{vrm} on false plates, seen at {place}",
     "{vehicle} showing {vrm} seen at {place}. The plates are said to have been taken from a car of the same "
     "model in Sale.",
     "Officer's assessment: likely cloned. PNC check on the plates advised before any stop."),
    ("Catalytic converter thefts: {vrm} seen scouting {street}",
     "{vehicle} {vrm} driven slowly along {street} in the early hours twice last week, stopping beside parked "
     "hybrids.", "Officer's assessment: matches the pattern of the converter thefts on the beat."),
)
PERSON_INTEL = (  # those naming an {associate} are used only when there is one
    ("{name} said to be dealing from a flat on {street}",
     "{name} is said to be selling cannabis and cocaine from a flat above the shops on {street}; callers stay "
     "a few minutes, mostly after 10pm.", "Officer's assessment: matches the footfall seen on late patrols."),
    ("{name} storing stolen bikes off {street}",
     "{name} is storing stolen pedal bikes and an e-scooter in a lock-up garage off {street}. {associate} "
     "helps move them at night.", "Officer's assessment: fits the rise in bike thefts at {place}."),
    ("{name} said to be carrying a knife at {place}",
     "{name} was seen at {place} on Saturday evening showing others a kitchen knife kept in a bum bag.",
     "Officer's assessment: credible; {name} has been involved in disorder at {place} before."),
    ("{name} and {associate} selling cannabis at {place}",
     "{name} and {associate} sell cannabis from the benches at {place} after school, mostly to teenagers.",
     "Officer's assessment: explains the groups gathering there after 3pm."),
    ("{name} recruiting younger children, {street}",
     "{name} has been giving younger children on {street} cash and new trainers and asking them to carry bags.",
     "Officer's assessment: possible criminal exploitation. Safeguarding informed."),
)
WELFARE_INTEL = (
    ("Child on the SPOC list collected by an older associate in {vrm}",
     "A child on the SPOC list is being collected from near {place} by an older associate, {associate}, driving "
     "{vehicle} {vrm}. Seen three times in the last month, always after 9pm.",
     "Officer's assessment: consistent with county lines grooming."),
    ("Older associate {associate} giving a child phones and cash",
     "{associate} is said to be giving a child on the SPOC list new phones and cash, and to have driven the child "
     "out of Trafford in {vehicle} {vrm}.", "Officer's assessment: criminal exploitation indicators; MASH aware."),
)
INTEL_SOURCES = (
    "Resident of {street}; contact through the PCSO's work phone only, never at home.",
    "Works near {place}; spoke to the PCSO in confidence on patrol.",
    "Goes to {place} most days; known to the PCSO for two years and has given accurate information before.",
    "Taxi driver who works the rank near {place}; will speak again.",
    "Parent of a pupil at a local school; asked not to be named to the school.",
)
INTEL_CONDITIONS = (
    "Not to be shared with partner agencies without the sergeant's agreement.",
    "Police only: not to be disclosed to the housing provider.",
    "Do not act on this without consulting the intelligence unit: the source could be identified.",
)

RETURN_COMMENTS = (
    "Add the control room reference, please.",
    "Which street exactly? Add the location or a postcode.",
    "Keep fact apart from opinion in the second paragraph.",
    "Say what advice was given and to whom.",
    "The time looks wrong: this was before your shift started.",
)
# (issue, action) in data.police.uk's priorities shape; {street} is a real Trafford street.
PRIORITIES = (
    ("Anti-social behaviour by groups of youths around {street}", "Targeted evening foot patrols; dispersal "
     "where needed; engagement with the youth service"),
    ("Vehicle crime: thefts from cars on {street} overnight", "Crime prevention leaflets; early-morning patrols; "
     "car-park checks"),
    ("Street drinking near the shops on {street}", "Joint visits with licensing; Community Protection Warnings "
     "for repeat drinkers"),
    ("Speeding and nuisance motorbikes on {street}", "Speed checks with Community Speedwatch; Section 59 warnings"),
    ("Drug dealing reported around {street}", "Intelligence gathering; high-visibility patrols; partner meeting "
     "with the housing provider"),
)

OTHERS_PRESENT = ("Mother present throughout", "Foster carer present", "Social worker (Trafford Children's Services)",
                  "Father present for part of the visit", "Older sister present")


# --- The command ----------------------------------------------------------------------------------


@dataclass
class SeedSummary:
    beats: int = 0
    schools: int = 0
    users: int = 0
    replaced: int = 0
    kinds: Counter = field(default_factory=Counter)
    drafts: int = 0
    asb_people: int = 0
    asb_vehicles: int = 0
    repeat_victims: int = 0
    children: int = 0
    intel_raised: int = 0
    reviewed: Counter = field(default_factory=Counter)
    priorities: int = 0


def demo_anchor(now: datetime) -> datetime:
    """The latest 06:00 UTC not after `now`: runs on the same demo day give the same data."""
    anchor = now.astimezone(timezone.utc).replace(hour=ANCHOR_HOUR_UTC, minute=0, second=0, microsecond=0)
    return anchor if anchor <= now else anchor - timedelta(days=1)


def real_data_counts() -> tuple[int, int]:
    """(users, entries) that are not demo data: non-demo collar numbers and their entries."""
    users = db.session.scalar(sa.select(sa.func.count(User.id)).where(User.collar_number.not_in(DEMO_COLLARS)))
    entries = db.session.scalar(
        sa.select(sa.func.count(Entry.id)).join(User, Entry.author_id == User.id)
        .where(User.collar_number.not_in(DEMO_COLLARS))
    )
    return users or 0, entries or 0


def _echo_logins() -> None:
    present = set(db.session.scalars(sa.select(User.collar_number).where(User.collar_number.in_(DEMO_COLLARS))))
    if not present:
        click.echo("No demo logins in this database.")
        return
    click.echo("Demo logins:")
    click.echo(f"  {'collar':<8} {'role':<18} {'name':<16} password")
    for user in DEMO_USERS:
        if user.collar_number in present:
            click.echo(f"  {user.collar_number:<8} {user.role.label:<18} {user.display_name:<16} {user.password}")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has users.")
@click.option("--force", is_flag=True, help="Seed even into a database holding real (non-demo) data, "
              "or when BEATBOOK_ENV=production.")
@click.option("--entries", "n_entries", type=click.IntRange(0, 20_000), default=400, show_default=True,
              help="How many entries to create.")
@click.option("--days", type=click.IntRange(7, 365), default=60, show_default=True,
              help="Spread the entries over this many days before today.")
@click.option("--seed", type=int, default=2026, show_default=True, help="Random seed: same seed, same data.")
@with_appcontext
def seed_demo_command(if_empty, force, n_entries, days, seed):
    """Load demo beats, schools, users and entries (deterministic for a given --seed and day)."""
    if if_empty:
        users = db.session.scalar(sa.select(sa.func.count(User.id)))
        if users:
            click.echo(f"Data already present ({users} users): nothing seeded.")
            _echo_logins()
            db.session.rollback()
            return
    if current_app.config.get("BEATBOOK_ENV") == "production" and not force:
        raise click.ClickException("BEATBOOK_ENV is production: refusing to load demo data (use --force "
                                   "if you really mean to).")
    real_users, real_entries = real_data_counts()
    if (real_users or real_entries) and not force:
        db.session.rollback()
        raise click.ClickException(
            f"This database holds real data ({real_users} non-demo users, {real_entries} entries by them): "
            "refusing to add demo data. Use --force to add it anyway (nothing real is deleted)."
        )
    started = time.perf_counter()
    try:
        summary = seed_demo(n_entries=n_entries, days=days, seed=seed, anchor=demo_anchor(utcnow()),
                            demo_only=not (real_users or real_entries))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    elapsed = time.perf_counter() - started
    if summary.replaced:
        click.echo(f"Replaced {summary.replaced} demo entries from an earlier run.")
    click.echo(f"Seeded in {elapsed:.1f} s: {summary.beats} beats ({DISTRICT}), {summary.schools} schools, "
               f"{summary.users} users.")
    for kind in EntryKind:
        click.echo(f"  {kind.label + 's':<21} {summary.kinds[kind]:>5}")
    click.echo(f"  {'total':<21} {sum(summary.kinds.values()):>5}  ({summary.drafts} drafts; "
               f"{summary.asb_people} people and {summary.asb_vehicles} vehicles on ASB incidents; "
               f"{summary.repeat_victims} repeat victims; {summary.children} children on SPOC lists; "
               f"{summary.intel_raised} intelligence reports raised from incidents and checks)")
    click.echo(f"  Reviewed: {summary.reviewed['approved']} approved, {summary.reviewed['returned']} returned; "
               f"{summary.priorities} beat priorities.")
    _echo_logins()


# --- The seed -------------------------------------------------------------------------------------


def seed_demo(*, n_entries: int, days: int, seed: int, anchor: datetime, demo_only: bool = True) -> SeedSummary:
    """Write the demo data. Flushes and audits; the caller commits once."""
    summary = SeedSummary()
    shapes = parse_boundaries(WARDS_PATH.read_text(encoding="utf-8"), code_property="area_code",
                              name_property="area_name")
    import_beats(shapes, district=DISTRICT)
    summary.beats = len(shapes)
    import_schools(SCHOOLS_PATH.read_text(encoding="utf-8-sig"))
    summary.schools = db.session.scalar(sa.select(sa.func.count(School.id)))

    users = _upsert_users({shape.name: shape.code for shape in shapes})
    summary.users = len(users)
    demo_ids = [u.id for u in users.values()]
    demo_entries = sa.select(Entry.id).where(Entry.author_id.in_(demo_ids)).scalar_subquery()
    # Reports raised from a demo entry lose that link first (PostgreSQL checks the key before it cascades).
    db.session.execute(sa.update(IntelligenceReport).where(IntelligenceReport.raised_from_id.in_(demo_entries))
                       .values(raised_from_id=None).execution_options(synchronize_session=False))
    summary.replaced = db.session.execute(
        sa.delete(Entry).where(Entry.author_id.in_(demo_ids)).execution_options(synchronize_session=False)
    ).rowcount or 0
    if summary.replaced:
        audit.record(AuditAction.ERASE, actor=None, object_type="entry", source="seed-demo", count=summary.replaced)
    if demo_only:  # the demo's people and vehicles went with its entries: clear the records left unlinked
        for model, column in ((Person, Link.person_id), (Vehicle, Link.vehicle_id)):
            db.session.execute(sa.delete(model).where(~sa.exists().where(column == model.id))
                               .execution_options(synchronize_session=False))

    db.session.execute(sa.delete(BeatPriority).where(BeatPriority.set_by_id.in_(demo_ids)))
    db.session.execute(sa.delete(Shift).where(Shift.user_id.in_(demo_ids)))
    builder = _Builder(random.Random(seed), anchor, days, users, summary)
    entries = builder.build(n_entries)
    builder.priorities_and_shifts()
    summary.kinds = Counter(e.kind for e in entries)
    summary.drafts = sum(e.status == EntryStatus.DRAFT for e in entries)
    db.session.flush()
    index_entries(entries)
    audit.record(AuditAction.IMPORT, actor=None, object_type="entry", source="seed-demo", seed=seed, days=days,
                 **{kind.value: summary.kinds[kind] for kind in EntryKind})
    return summary


def _upsert_users(codes_by_name: dict[str, str]) -> dict[str, User]:
    """Create the demo users, or reset them (name, role, password, beats) if they exist."""
    beats = db.session.scalars(sa.select(Beat).where(Beat.code.in_(list(codes_by_name.values()))))
    beats_by_code = {b.code: b for b in beats}
    existing = {u.collar_number: u for u in
                db.session.scalars(sa.select(User).where(User.collar_number.in_(DEMO_COLLARS)))}
    users: dict[str, User] = {}
    for demo in DEMO_USERS:
        user = existing.get(demo.collar_number)
        created = user is None
        if created:
            user = User(collar_number=demo.collar_number)
            db.session.add(user)
        user.display_name, user.role, user.is_enabled = demo.display_name, demo.role, True
        user.set_password(demo.password)
        db.session.flush()
        if created:
            audit.record(AuditAction.CREATE, user, actor=None, source="seed-demo")
        else:
            audit.record(AuditAction.UPDATE, user, actor=None, source="seed-demo",
                         fields=["display_name", "role", "password", "is_enabled"])
        users[demo.collar_number] = user
    supervised: list[Beat] = []
    for demo in DEMO_USERS:
        missing = [name for name in demo.beat_names if name not in codes_by_name]
        if missing:
            raise click.ClickException(f"demo beats not found in {WARDS_PATH.name}: {', '.join(missing)}")
        beats = [beats_by_code[codes_by_name[name]] for name in demo.beat_names]
        supervised += beats
        if demo.role != Role.SUPERVISOR:
            assign_beats(users[demo.collar_number], beats, actor=None)
    for demo in DEMO_USERS:
        if demo.role == Role.SUPERVISOR:
            assign_beats(users[demo.collar_number], supervised, actor=None)
    return users


@dataclass
class _Spot:
    """Where an entry happened."""

    beat: Beat
    lat: float
    lon: float
    accuracy_m: float | None
    source: LocationSource
    text: str


@dataclass
class _Child:
    """A child on a SPOC's list and their visits: (days before the anchor, visit type)."""

    name: str
    born_on: date
    spoc: User
    beat: Beat
    home: PostcodePoint
    profile: str
    risk: RiskLevel
    visits: list[tuple[int, WelfareVisitType]] = field(default_factory=list)


class _Builder:
    """Makes the entries. Every random choice goes through self.rng, in a fixed order."""

    def __init__(self, rng: random.Random, anchor: datetime, days: int, users: dict[str, User],
                 summary: SeedSummary) -> None:
        self.rng, self.anchor, self.days, self.summary = rng, anchor, days, summary
        self.pcsos = [users[d.collar_number] for d in DEMO_USERS if d.role == Role.PCSO]
        self.supervisor = next(users[d.collar_number] for d in DEMO_USERS if d.role == Role.SUPERVISOR)
        self.beats_of = {}  # each PCSO's beats, in the order DEMO_USERS names them
        for demo in DEMO_USERS:
            if demo.role == Role.PCSO:
                user = users[demo.collar_number]
                self.beats_of[user.id] = sorted(user.beats, key=lambda b: demo.beat_names.index(b.name))
        self.index = beat_index()
        beats = [b for user in self.pcsos for b in self.beats_of[user.id]]
        self.beats_by_id = {b.id: b for b in beats}
        self.points = self._postcode_points(beats)
        self.hotspots = {b.id: rng.sample(self.points[b.id], min(3, len(self.points[b.id]))) for b in beats}
        self.schools = {b.id: list(db.session.scalars(
            sa.select(School).where(School.beat_id == b.id, School.lat.is_not(None)).order_by(School.urn)))
            for b in beats}
        self.patrols: dict[int, list[Patrol]] = {u.id: [] for u in [*self.pcsos, self.supervisor]}
        self.vehicle_pool = [(self._vrm(), rng.choice(VEHICLES)) for _ in range(6)]
        self.people: dict[tuple[str, date | None], Person] = {}  # in the demo, one name is one person
        self.vehicles: dict[str, Vehicle] = {}

    def _person(self, name: str, born_on: date | None = None) -> Person:
        person = self.people.get((name, born_on))
        if person is None:
            person = Person(full_name=name, name_key=name_key(name), born_on=born_on)
            self.people[(name, born_on)] = person
        return person

    def _vehicle(self, vrm: str, seen: str) -> Vehicle:
        vehicle = self.vehicles.get(vrm)
        if vehicle is None:
            colour, make, *model = seen.split(",")[0].split()
            vehicle = Vehicle(vrm=vrm, colour=colour, make=make, model=" ".join(model) or None)
            self.vehicles[vrm] = vehicle
        return vehicle

    # -- helpers --

    def _postcode_points(self, beats: list[Beat]) -> dict[int, list[PostcodePoint]]:
        """Postcode centroids of each beat's ward that the beat polygon really contains.

        The generalised ward outlines leave a few centroids just outside their own ward.
        """
        book = load_postcode_book(DEFAULT_POSTCODES_PATH)
        by_code = {b.code: b for b in beats}
        candidates = [p for p in book if p.ward_code in by_code]
        located = self.index.locate_many((p.lat, p.lon) for p in candidates)
        points: dict[int, list[PostcodePoint]] = {b.id: [] for b in beats}
        for point, beat_id in zip(candidates, located):
            if beat_id == by_code[point.ward_code].id:
                points[beat_id].append(point)
        empty = [b.name for b in beats if not points[b.id]]
        if empty:
            raise click.ClickException(f"no postcodes found inside beat(s): {', '.join(empty)}")
        return points

    def _key(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def _name(self, gender: str | None = None) -> str:
        _, female, male, surnames = self.rng.choices(NAME_GROUPS, weights=[g[0] for g in NAME_GROUPS])[0]
        gender = gender or self.rng.choice("fm")
        return f"{self.rng.choice(female if gender == 'f' else male)} {self.rng.choice(surnames)}"

    def _suspect(self, kind: AsbKind) -> tuple[str, InvolvementRole, str]:
        gender, description = self.rng.choice(SUSPECTS[kind.suspects])
        return self._name(gender), InvolvementRole.SUSPECT, description

    def _vrm(self) -> str:
        letters = "".join(self.rng.choice(VRM_LETTERS) for _ in range(3))
        return f"{self.rng.choice(VRM_AREAS)}{self.rng.choice(VRM_AGES)}{letters}"

    def _words(self, beat: Beat) -> dict[str, str]:
        streets = STREETS.get(beat.name, GENERIC_STREETS)
        street, street2 = self.rng.sample(streets, 2)
        return {"street": street, "street2": street2, "place": self.rng.choice(PLACES.get(beat.name, GENERIC_PLACES)),
                "n": str(self.rng.randint(2, 180)), "k": str(self.rng.randint(3, 9))}

    def _spot(self, beat: Beat, point: PostcodePoint | None = None, words: dict[str, str] | None = None) -> _Spot:
        """A point on `beat`: a postcode centroid (hotspots more often), or a GPS fix near one."""
        if point is None:
            pool = self.hotspots[beat.id] if self.rng.random() < 0.35 else self.points[beat.id]
            point = self.rng.choice(pool)
        words = words or self._words(beat)
        text = self.rng.choice(NEAR_TEMPLATES).format(**words)
        if self.rng.random() < 0.55:
            accuracy = round(self.rng.uniform(5, 60), 1)
            distance, bearing = self.rng.uniform(0, accuracy), self.rng.uniform(0, 2 * math.pi)
            lat = point.lat + distance * math.cos(bearing) / 111_320
            lon = point.lon + distance * math.sin(bearing) / (111_320 * math.cos(math.radians(point.lat)))
            if self.index.locate(lat, lon) == beat.id:
                return _Spot(beat, round(lat, 6), round(lon, 6), accuracy, LocationSource.GPS, text)
        return _Spot(beat, point.lat, point.lon, None, LocationSource.POSTCODE, f"{text} ({point.postcode})")

    def _when(self, hours: tuple[int, int], *, weekdays_only: bool = False, minutes: int = 0) -> datetime:
        """A London wall-clock time in `hours` on a day in the window, ending `minutes` before the anchor."""
        anchor_day = to_london(self.anchor).date()
        for _ in range(20):
            day = anchor_day - timedelta(days=self.rng.randint(0, self.days - 1))
            if weekdays_only and day.weekday() >= 5:
                continue
            local = datetime.combine(day, datetime.min.time()) + timedelta(
                minutes=self.rng.randint(hours[0] * 60, hours[1] * 60 - 1))
            when = from_london(local)
            if when + timedelta(minutes=minutes + 15) <= self.anchor:
                return when
        return self.anchor - timedelta(days=1, minutes=minutes + 15)

    def _new(self, cls, *, author: User, spot: _Spot, occurred_at: datetime, summary: str, **fields) -> Entry:
        located = self.index.locate(spot.lat, spot.lon)
        beat_id = located if located is not None else spot.beat.id
        recorded = min(occurred_at + timedelta(minutes=self.rng.randint(2, 180)), self.anchor)
        entry = cls(
            author_id=author.id, client_key=self._key(), beat_id=beat_id, located_beat_id=located,
            is_beat_overridden=False, occurred_at=occurred_at, recorded_at=recorded, lat=spot.lat, lon=spot.lon,
            accuracy_m=spot.accuracy_m, location_source=spot.source, location_text=spot.text[:200],
            summary=summary[:200], status=EntryStatus.SUBMITTED, marking=SecurityMarking.OFFICIAL, **fields,
        )
        entry.revisions.append(EntryRevision(actor_id=author.id, action="created", changes={}, at=recorded))
        return entry

    # -- the entries --

    def build(self, n: int) -> list[Entry]:
        welfare = self._welfare_checks(round(n * KIND_SHARE[EntryKind.WELFARE_CHECK]))
        n_intel = min(round(n * KIND_SHARE[EntryKind.INTELLIGENCE_REPORT]), n - len(welfare))
        rest = n - len(welfare) - n_intel
        others = sum(KIND_SHARE[k] for k in (EntryKind.PATROL, EntryKind.ASB_INCIDENT, EntryKind.SCHOOL_VISIT))
        n_patrols = round(rest * KIND_SHARE[EntryKind.PATROL] / others)
        n_schools = round(rest * KIND_SHARE[EntryKind.SCHOOL_VISIT] / others)
        n_asb = rest - n_patrols - n_schools
        patrols = [self._patrol() for _ in range(n_patrols)]
        db.session.add_all(patrols)
        db.session.flush()  # patrol ids, for incidents logged during a patrol
        incidents = self._asb_incidents(n_asb)
        entries = patrols + incidents + [self._school_visit() for _ in range(n_schools)] + welfare
        db.session.add_all(entries)
        db.session.flush()  # ids, for intelligence raised from incidents and checks
        entries += self._intelligence_reports(n_intel, incidents, welfare)
        self._finish(entries)
        db.session.add_all(entries)
        return entries

    def _author(self) -> User:
        return self.rng.choice(self.pcsos)

    def _beat_for(self, user: User) -> Beat:
        beats = self.beats_of.get(user.id) or list(self.beats_by_id.values())
        return self.rng.choices(beats, weights=[3, 2, 2][:len(beats)] + [1] * max(0, len(beats) - 3))[0]

    def _patrol(self) -> Patrol:
        author = self.supervisor if self.rng.random() < 0.06 else self._author()
        if author is self.supervisor:
            beat = self.rng.choice(list(self.beats_by_id.values()))
        else:
            beat = self._beat_for(author)
        mode = self.rng.choices(list(PatrolMode), weights=[6, 3, 1])[0]
        duration = timedelta(minutes=self.rng.randint(30, 240))
        for _ in range(10):  # one officer, one patrol at a time
            started = self._when((7, 22), minutes=int(duration.total_seconds() // 60))
            ended = started + duration
            if not any(p.started_at < ended and started < p.ended_at for p in self.patrols[author.id]):
                break
        words = self._words(beat)
        spot = self._spot(beat, words=words)
        purpose = self.rng.choice(PATROL_PURPOSES).format(**words)
        patrol = self._new(Patrol, author=author, spot=spot, occurred_at=started,
                           summary=f"{mode.label} patrol: {purpose}", started_at=started, ended_at=ended,
                           mode=mode, purpose=purpose[:200], notes=self.rng.choice(PATROL_NOTES).format(**words))
        patrol.recorded_at = started + timedelta(minutes=self.rng.randint(0, 3))
        patrol.revisions[0].at = patrol.recorded_at
        self.patrols[author.id].append(patrol)
        return patrol

    def _asb_incidents(self, n: int) -> list[AsbIncident]:
        incidents = self._repeat_victims(n)
        while len(incidents) < n:
            incidents.append(self._asb())
        return incidents

    def _asb_kind(self, when: datetime) -> AsbKind:
        local = to_london(when).date()
        bonfire = (local.month == 10 and local.day >= 15) or (local.month == 11 and local.day <= 12)
        weights = [(3.0 if bonfire else 0.3) if kind.asb_type == AsbType.FIREWORKS else 1.0 for kind in ASB_KINDS]
        return self.rng.choices(ASB_KINDS, weights=weights)[0]

    def _asb(self) -> AsbIncident:
        author = self._author()
        patrol = None
        if self.patrols[author.id] and self.rng.random() < 0.3:  # came across it on patrol
            patrol = self.rng.choice(self.patrols[author.id])
            minutes = int((patrol.ended_at - patrol.started_at).total_seconds() // 60)
            when = patrol.started_at + timedelta(minutes=self.rng.randint(5, max(5, minutes - 5)))
            beat = self.beats_by_id.get(patrol.beat_id) or self._beat_for(author)
        else:
            when, beat = self._when((8, 24)), self._beat_for(author)
        kind = self._asb_kind(when)
        incident = self._incident(author, beat, when, kind, self._words(beat), self._people(kind))
        if patrol is not None:
            incident.patrol_id = patrol.id
        return incident

    def _people(self, kind: AsbKind) -> list[tuple[str, InvolvementRole, str | None]]:
        """0-3 people; a personal incident always has its victim."""
        others = [InvolvementRole.REPORTER, InvolvementRole.WITNESS]
        if kind.suspects:
            others.append(InvolvementRole.SUSPECT)
        roles = ([InvolvementRole.VICTIM] if kind.category == NsirCategory.PERSONAL else []) + self.rng.sample(
            others, len(others))
        count = self.rng.choices([0, 1, 2, 3], weights=[2, 4, 3, 2])[0]
        people = []
        for role in roles[:max(count, 1 if kind.category == NsirCategory.PERSONAL else 0)]:
            people.append(self._suspect(kind) if role == InvolvementRole.SUSPECT else (self._name(), role, None))
        return people

    def _incident(self, author: User, beat: Beat, when: datetime, kind: AsbKind, words: dict[str, str],
                  people: list[tuple[str, InvolvementRole, str | None]], *, spot: _Spot | None = None,
                  risk: RiskLevel | None = None) -> AsbIncident:
        spot = spot or self._spot(beat, words=words)
        has_victim = any(role == InvolvementRole.VICTIM for _, role, _ in people)
        if has_victim and risk is None:
            risk = self.rng.choices(list(RiskLevel), weights=[6, 3, 1])[0]
        vehicles = []
        if kind.asb_type in (AsbType.ABANDONED_VEHICLE, AsbType.VEHICLE_NUISANCE, AsbType.SOLVENT_MISUSE):
            count = 1 if kind.asb_type == AsbType.ABANDONED_VEHICLE else self.rng.randint(1, 2)
            vehicles = [self.rng.choice(self.vehicle_pool) if self.rng.random() < 0.5  # the usual suspects
                        else (self._vrm(), self.rng.choice(VEHICLES)) for _ in range(count)]
        elif self.rng.random() < 0.1:
            vehicles = [(self._vrm(), self.rng.choice(VEHICLES))]
        vehicles = list(dict.fromkeys(vehicles))
        ref = None
        if self.rng.random() < 0.6:  # called in through the control room
            ref = f"GMP-{to_london(when):%Y%m%d}-{self.rng.randint(1, 2400):04d}"
        incident = self._new(
            AsbIncident, author=author, spot=spot, occurred_at=when, summary=kind.summary.format(**words),
            nsir_category=kind.category, asb_type=kind.asb_type, description=kind.description.format(**words),
            action_taken=self.rng.choice(kind.actions), control_room_ref=ref, victim_risk=risk if has_victim else None,
            links=[Link(person=self._person(name), role=LinkRole(role.value), note=desc, position=i)
                   for i, (name, role, desc) in enumerate(people)]
            + [Link(vehicle=self._vehicle(vrm, seen), role=LinkRole.MENTIONED, note=seen, position=100 + i)
               for i, (vrm, seen) in enumerate(vehicles)],
        )
        if risk == RiskLevel.HIGH or self.rng.random() < 0.05:
            incident.marking = SecurityMarking.OFFICIAL_SENSITIVE
        self.summary.asb_people += len(people)
        self.summary.asb_vehicles += len(vehicles)
        return incident

    def _repeat_victims(self, budget: int) -> list[AsbIncident]:
        """A few victims targeted again and again at home: 3 to 5 incidents within 3 months."""
        personal = [kind for kind in ASB_KINDS if kind.category == NsirCategory.PERSONAL]
        incidents: list[AsbIncident] = []
        anchor_day = to_london(self.anchor).date()
        for _ in range(min(4, budget // 8)):
            author = self._author()
            beat = self._beat_for(author)
            home, victim = self.rng.choice(self.points[beat.id]), self._name()
            kind, words = self.rng.choice(personal), self._words(beat)
            suspect = self._suspect(kind) if kind.suspects else None
            count = self.rng.randint(3, 5)
            first = self.rng.randint(count, min(self.days - 1, 80))  # days before the anchor
            days_ago = sorted([first, *self.rng.sample(range(1, first), count - 1)], reverse=True)
            for i, ago in enumerate(days_ago):
                local = datetime.combine(anchor_day - timedelta(days=ago), datetime.min.time())
                when = min(from_london(local + timedelta(minutes=self.rng.randint(17 * 60, 23 * 60))),
                           self.anchor - timedelta(hours=1))
                people = [(victim, InvolvementRole.VICTIM, None)]
                if suspect and self.rng.random() < 0.6:
                    people.append(suspect)
                risk = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.HIGH)[i]
                spot = self._spot(beat, point=home, words=words)
                spot.text = f"Victim's home address, {words['street']} ({home.postcode})"
                incidents.append(self._incident(author, beat, when, kind, words, people, spot=spot, risk=risk))
            self.summary.repeat_victims += 1
        return incidents

    def _school_visit(self) -> SchoolVisit:
        author = self._author()
        beats = [b for b in self.beats_of[author.id] if self.schools[b.id]] or [
            b for b in self.beats_by_id.values() if self.schools[b.id]]
        beat = self.rng.choice(beats)
        school = self.rng.choice(self.schools[beat.id])
        phase, groups = _phase_and_groups(school)
        topic, visit_type, wanted = self.rng.choice(SCHOOL_TOPICS[phase])
        if wanted == "staff":
            year_groups, audience = "Staff", self.rng.randint(1, 4)
        elif wanted == "parents":
            year_groups, audience = "Parents", self.rng.randint(8, 40)
        else:
            pupils = [g for g in groups if g != "Nursery"] or groups
            if phase == "secondary":
                pupils = [g for g in pupils if g in SECONDARY_GROUPS] or pupils
            half = len(pupils) // 2
            choose_from = {"lower": pupils[:max(half, 1)], "upper": pupils[half:], "all": pupils}[wanted]
            size = min(len(choose_from), self.rng.randint(1, 3))
            start = self.rng.randint(0, len(choose_from) - size)
            year_groups = ", ".join(choose_from[start:start + size])
            audience = {SchoolVisitType.ASSEMBLY: self.rng.randint(90, 320), SchoolVisitType.TALK:
                        self.rng.randint(20, 65), SchoolVisitType.DROP_IN: self.rng.randint(8, 45)}.get(
                visit_type, self.rng.randint(1, 4))
        when = self._when((9, 15), weekdays_only=True)
        spot = _Spot(beat, school.lat, school.lon, None, LocationSource.SCHOOL, school.name)
        follow_ups = self.rng.choice(SCHOOL_FOLLOW_UPS) if self.rng.random() < 0.45 else None
        return self._new(SchoolVisit, author=author, spot=spot, occurred_at=when,
                         summary=f"{topic} at {school.name}", school_id=school.id, visit_type=visit_type,
                         topic=topic, year_groups=year_groups, audience_size=audience, follow_ups=follow_ups)

    def _welfare_checks(self, budget: int) -> list[WelfareCheck]:
        """Each child on a SPOC's list is seen roughly monthly, and again after a missing episode.

        Children join the lists in order while their visits fit the welfare share of the entries.
        """
        if budget <= 0:
            return []
        children = [self._child(*row) for row in CHILDREN]
        chosen, total = [], 0
        for child in children:
            if total + len(child.visits) <= budget:
                chosen.append(child)
                total += len(child.visits)
        if not chosen:
            children[0].visits = children[0].visits[:budget]
            chosen = [children[0]]
        self.summary.children = len(chosen)
        return [self._welfare_check(child, ago, visit_type) for child in chosen for ago, visit_type in child.visits]

    def _child(self, name: str, age: int, spoc_index: int, beat_index_: int, profile: str,
               risk: RiskLevel) -> _Child:
        spoc = self.pcsos[spoc_index % len(self.pcsos)]
        beat = self.beats_of[spoc.id][beat_index_ % len(self.beats_of[spoc.id])]
        born_on = to_london(self.anchor).date() - timedelta(days=round(age * 365.25) + self.rng.randint(20, 340))
        child = _Child(name, born_on, spoc, beat, self.rng.choice(self.points[beat.id]), profile, risk)
        ago = self.days - self.rng.randint(1, 28)
        while ago >= 1:
            child.visits.append((ago, WelfareVisitType.PLANNED))
            ago -= self.rng.randint(27, 33)
        extra = []
        if profile == "missing" or (risk == RiskLevel.HIGH and self.rng.random() < 0.6):
            extra.append(WelfareVisitType.AFTER_MISSING)
        if risk == RiskLevel.HIGH and self.rng.random() < 0.5:
            extra.append(WelfareVisitType.AD_HOC)
        for visit_type in extra:
            for _ in range(10):  # not within 3 days of another visit
                ago = self.rng.randint(1, self.days - 1)
                if all(abs(ago - other) > 3 for other, _ in child.visits):
                    child.visits.append((ago, visit_type))
                    break
        child.visits.sort(reverse=True)
        return child

    def _welfare_check(self, child: _Child, ago: int, visit_type: WelfareVisitType) -> WelfareCheck:
        day = to_london(self.anchor).date() - timedelta(days=ago)
        schools = self.schools[child.beat.id]
        at_school = day.weekday() < 5 and schools and self.rng.random() < 0.15
        hours = (10, 15) if at_school else (15, 20)
        when = min(from_london(datetime.combine(day, datetime.min.time())
                               + timedelta(minutes=self.rng.randint(hours[0] * 60, hours[1] * 60 - 1))),
                   self.anchor - timedelta(hours=1))
        if at_school:
            school = self.rng.choice(schools)
            spot = _Spot(child.beat, school.lat, school.lon, None, LocationSource.SCHOOL,
                         f"{school.name}, pastoral office")
            others = "Head of year present"
        else:
            spot = self._spot(child.beat, point=child.home)
            spot.text = "Home address (on file)"
            others = self.rng.choice(OTHERS_PRESENT)
        risk = RiskLevel.HIGH if visit_type == WelfareVisitType.AFTER_MISSING else child.risk
        if child.profile == "improving" and self.rng.random() < 0.2:
            risk = RiskLevel.MEDIUM
        pool = PROFILE_INDICATORS[child.profile]
        picked = set(self.rng.sample(pool, self.rng.randint(0 if risk == RiskLevel.LOW else 1, min(3, len(pool)))))
        if visit_type == WelfareVisitType.AFTER_MISSING:
            picked.add(ExploitationIndicator.MISSING_SINCE_LAST_VISIT)
        seen_alone = self.rng.random() < 0.45
        mash = risk == RiskLevel.HIGH and self.rng.random() < 0.5
        initials = "".join(part[0] for part in child.name.split())
        check = self._new(
            WelfareCheck, author=child.spoc, spot=spot, occurred_at=when,
            summary=f"{visit_type.label} SPOC visit: {initials}, risk {risk.value}",
            links=[Link(person=self._person(child.name, child.born_on), role=LinkRole.SUBJECT)],
            spoc_id=child.spoc.id, visit_type=visit_type,
            is_seen_alone=seen_alone, others_present=None if seen_alone else others,
            child_words=self.rng.choice(CHILD_WORDS[child.profile]),
            observations=self.rng.choice(OBSERVATIONS[child.profile]),
            indicators=[i.value for i in ExploitationIndicator if i in picked],  # in the standard order
            risk_level=risk, is_intelligence_raised=risk != RiskLevel.LOW and self.rng.random() < 0.4,
            is_mash_referral=mash, mash_reference=f"MASH-{day.year}-{self.rng.randint(1, 9999):04d}" if mash else None,
            is_partner_informed=risk != RiskLevel.LOW and self.rng.random() < 0.6,
            next_visit_on=day + timedelta(days=7 if visit_type == WelfareVisitType.AFTER_MISSING else 28),
        )
        check.marking = SecurityMarking.OFFICIAL_SENSITIVE  # always, as the entry service does
        return check

    # -- intelligence --

    def _intelligence_reports(self, n: int, incidents: list[AsbIncident], checks: list[WelfareCheck]
                              ) -> list[IntelligenceReport]:
        """Graded reports about the beat's faces and vehicles, reusing their records so links build associations.

        Some are raised from an ASB incident (its suspects and vehicles, never its victims or reporters) or
        from a welfare check (the child, an older associate, a car), as the "Raise intelligence report"
        button does.
        """
        if n <= 0:
            return []
        suspects: dict[int, list[Person]] = {}  # by author: the faces on their beats
        for incident in incidents:
            for link in incident.links:
                if link.role == LinkRole.SUSPECT and link.person not in suspects.setdefault(incident.author_id, []):
                    suspects[incident.author_id].append(link.person)
        raisable = [i for i in incidents if any(link.role == LinkRole.SUSPECT or link.vehicle for link in i.links)]
        at_risk = [c for c in checks if c.risk_level != RiskLevel.LOW]
        n_asb = min(len(raisable), round(n * RAISED_SHARE[EntryKind.ASB_INCIDENT]))
        n_welfare = min(len(at_risk), round(n * RAISED_SHARE[EntryKind.WELFARE_CHECK]), n - n_asb)
        reports = [self._intel_from_incident(i) for i in self.rng.sample(raisable, n_asb)]
        reports += [self._intel_from_check(c, suspects) for c in self.rng.sample(at_risk, n_welfare)]
        self.summary.intel_raised = len(reports)
        while len(reports) < n:
            reports.append(self._intel_on_the_beat(suspects))
        return reports

    def _face(self, suspects: dict[int, list[Person]], author: User, *, besides: Person | None = None) -> Person:
        """A suspect already seen on the author's beats, now and then someone new."""
        known = [p for p in suspects.get(author.id, []) if p is not besides]
        if known and self.rng.random() < 0.75:
            return self.rng.choice(known)
        return self._person(self._name("m" if self.rng.random() < 0.8 else "f"))

    def _pool_vehicle(self) -> Vehicle:
        """One of the usual suspects' cars, now and then a new one (no plateless bikes: intelligence names a VRM)."""
        cars = [(vrm, seen) for vrm, seen in self.vehicle_pool if "no plates" not in seen]
        if cars and self.rng.random() < 0.7:
            return self._vehicle(*self.rng.choice(cars))
        return self._vehicle(self._vrm(), self.rng.choice([v for v in VEHICLES if "no plates" not in v]))

    def _intel(self, author: User, spot: _Spot, when: datetime, words: dict[str, str], template: tuple[str, ...],
               links: list[Link], *, sensitive: bool, raised_from: Entry | None = None) -> IntelligenceReport:
        summary, fact, opinion = (part.format(**words) for part in template)
        evaluation = self.rng.choices(list(SourceEvaluation), weights=[3, 6, 1])[0]
        assessment = self.rng.choices(list(IntelAssessment), weights=[4, 3, 3, 1, 0.3])[0]
        code = HandlingCode.CONDITIONS if self.rng.random() < 0.2 else HandlingCode.PERMITTED
        source = self.rng.choice(INTEL_SOURCES).format(**words) if self.rng.random() < 0.6 else None
        report = self._new(
            IntelligenceReport, author=author, spot=spot, occurred_at=when, summary=summary,
            source_evaluation=evaluation, assessment=assessment, handling_code=code,
            handling_conditions=self.rng.choice(INTEL_CONDITIONS) if code == HandlingCode.CONDITIONS else None,
            sanitised_text=f"{fact}\n\n{opinion}", source_details=source, links=links,
            raised_from_id=raised_from.id if raised_from is not None else None,
        )
        # OFFICIAL-SENSITIVE by default; now and then lowered for the beat's briefing (never with conditions,
        # never when it came from a welfare check or a sensitive incident).
        lowered = code == HandlingCode.PERMITTED and not sensitive and self.rng.random() < 0.3
        report.marking = SecurityMarking.OFFICIAL if lowered else SecurityMarking.OFFICIAL_SENSITIVE
        return report

    def _later(self, when: datetime) -> datetime:
        return min(when + timedelta(minutes=self.rng.randint(0, 90)), self.anchor - timedelta(minutes=15))

    def _intel_from_incident(self, incident: AsbIncident) -> IntelligenceReport:
        author = next(u for u in self.pcsos if u.id == incident.author_id)
        beat = self.beats_by_id[incident.beat_id]
        words = self._words(beat)
        people = [link for link in incident.links if link.role == LinkRole.SUSPECT]
        cars = [link.vehicle for link in incident.links if link.vehicle is not None]
        vehicle = cars[0] if cars else None
        if people:
            words["name"] = people[0].person.full_name
            if len(people) > 1:
                words["associate"] = people[1].person.full_name
            template = self.rng.choice([t for t in PERSON_INTEL if len(people) > 1 or "{associate}" not in t[1]])
        else:
            template = self.rng.choice(VEHICLE_INTEL)
        if vehicle is not None:
            words |= {"vrm": vehicle.vrm, "vehicle": vehicle.description or "A car"}
        links = [Link(person=link.person, role=LinkRole.SUSPECT, note=link.note, position=i)
                 for i, link in enumerate(people)]
        links += [Link(vehicle=car, role=LinkRole.MENTIONED, position=100 + i) for i, car in enumerate(cars)]
        spot = _Spot(beat, incident.lat, incident.lon, incident.accuracy_m, incident.location_source,
                     incident.location_text or "")
        return self._intel(author, spot, self._later(incident.occurred_at), words, template, links,
                           sensitive=incident.marking == SecurityMarking.OFFICIAL_SENSITIVE, raised_from=incident)

    def _intel_from_check(self, check: WelfareCheck, suspects: dict[int, list[Person]]) -> IntelligenceReport:
        author = next(u for u in self.pcsos if u.id == check.author_id)
        beat = self.beats_by_id[check.beat_id]
        words = self._words(beat)
        associate, vehicle = self._face(suspects, author), self._pool_vehicle()
        words |= {"associate": associate.full_name, "vrm": vehicle.vrm, "vehicle": vehicle.description or "A car"}
        child = next(link.person for link in check.links if link.role == LinkRole.SUBJECT)
        links = [Link(person=child, role=LinkRole.SUBJECT, position=0),
                 Link(person=associate, role=LinkRole.ASSOCIATE, note="Older associate", position=1),
                 Link(vehicle=vehicle, role=LinkRole.MENTIONED, position=100)]
        check.is_intelligence_raised = True
        spot = _Spot(beat, check.lat, check.lon, check.accuracy_m, check.location_source, check.location_text or "")
        return self._intel(author, spot, self._later(check.occurred_at), words, self.rng.choice(WELFARE_INTEL),
                           links, sensitive=True, raised_from=check)

    def _intel_on_the_beat(self, suspects: dict[int, list[Person]]) -> IntelligenceReport:
        author = self._author()
        beat = self._beat_for(author)
        words = self._words(beat)
        links: list[Link] = []
        if self.rng.random() < 0.5:
            vehicle = self._pool_vehicle()
            words |= {"vrm": vehicle.vrm, "vehicle": vehicle.description or "A car"}
            template = self.rng.choice(VEHICLE_INTEL)
            if self.rng.random() < 0.5:
                links.append(Link(person=self._face(suspects, author), role=LinkRole.ASSOCIATE, note="Driver",
                                  position=0))
        else:
            name = self._face(suspects, author)
            associate = self._face(suspects, author, besides=name)
            words |= {"name": name.full_name, "associate": associate.full_name}
            template = self.rng.choice(PERSON_INTEL)
            links += [Link(person=name, role=LinkRole.SUBJECT, position=0),
                      Link(person=associate, role=LinkRole.ASSOCIATE, position=1)]
            vehicle = self._pool_vehicle() if self.rng.random() < 0.4 else None
        if vehicle is not None:
            links.append(Link(vehicle=vehicle, role=LinkRole.MENTIONED, position=100))
        return self._intel(author, self._spot(beat, words=words), self._when((8, 23)), words, template, links,
                           sensitive=False)

    def _finish(self, entries: list[Entry]) -> None:
        """Recent entries are partly still drafts; the rest were submitted after recording."""
        by_time = sorted(entries, key=lambda e: e.occurred_at, reverse=True)
        recent = by_time[:max(1, round(len(entries) * 0.15))] if entries else []
        drafts = {id(e) for e in recent if self.rng.random() < 2 / 3}
        for entry in entries:
            done = entry.ended_at if isinstance(entry, Patrol) else entry.recorded_at
            if id(entry) in drafts:
                entry.status, entry.submitted_at = EntryStatus.DRAFT, None
                entry.updated_at = entry.recorded_at
            else:
                entry.status = EntryStatus.SUBMITTED
                entry.submitted_at = min(max(done, entry.recorded_at) + timedelta(minutes=self.rng.randint(5, 480)),
                                         self.anchor)
                entry.updated_at = entry.submitted_at
        self._review(entries)

    def _review(self, entries: list[Entry]) -> None:
        """The sergeant signed off most of what was submitted more than two days ago and sent a few back.

        Of those: 86% approved, 4% returned (half corrected and resubmitted since, half still with their
        author), the rest still waiting, so the queue has old items to flag as well as yesterday's.
        """
        cutoff = self.anchor - timedelta(days=2)
        for entry in entries:
            if (entry.status != EntryStatus.SUBMITTED or entry.author_id == self.supervisor.id
                    or entry.submitted_at > cutoff):
                continue
            roll = self.rng.random()
            decided = min(entry.submitted_at + timedelta(hours=self.rng.randint(2, 40)), self.anchor)
            if roll < 0.86:
                grade = entry.grading if isinstance(entry, IntelligenceReport) else None
                self._decide(entry, ReviewDecision.APPROVED, decided, None,
                             {"from": grade, "to": grade, "changed": False} if grade else None)
            elif roll < 0.90:
                self._decide(entry, ReviewDecision.RETURNED, decided, self.rng.choice(RETURN_COMMENTS))
                if self.rng.random() < 0.5:  # corrected and resubmitted: back in the queue
                    entry.status = EntryStatus.SUBMITTED
                    entry.submitted_at = min(decided + timedelta(hours=self.rng.randint(4, 30)), self.anchor)
                    entry.revisions.append(EntryRevision(actor_id=entry.author_id, action="resubmitted",
                                                         changes={"status": ["returned", "submitted"]},
                                                         at=entry.submitted_at))

    def _decide(self, entry: Entry, decision: ReviewDecision, at: datetime, comment: str | None,
                grading: dict | None = None) -> None:
        entry.reviews.append(EntryReview(reviewer_id=self.supervisor.id, at=at, decision=decision, comment=comment,
                                         submitted_at=entry.submitted_at, grading=grading))
        status = EntryStatus.APPROVED if decision == ReviewDecision.APPROVED else EntryStatus.RETURNED
        entry.revisions.append(EntryRevision(actor_id=self.supervisor.id, action=decision.value, at=at,
                                             changes={"status": [entry.status.value, status.value]}))
        entry.status, entry.reviewer_id, entry.reviewed_at, entry.updated_at = status, self.supervisor.id, at, at
        self.summary.reviewed[decision.value] += 1

    def priorities_and_shifts(self) -> None:
        """Two priorities per demo beat, set by the sergeant; each PCSO's last shift ended last night."""
        today = to_london(self.anchor).date()
        for user in self.pcsos:
            for beat in self.beats_of[user.id]:
                for issue, action in self.rng.sample(PRIORITIES, 2):
                    issued = today - timedelta(days=self.rng.randint(10, 60))
                    db.session.add(BeatPriority(
                        beat_id=beat.id, issue=issue.format(street=self.rng.choice(STREETS[beat.name])), issue_date=issued,
                        action=action, action_date=issued + timedelta(days=self.rng.randint(7, 40)),
                        set_by_id=self.supervisor.id, created_at=self.anchor, updated_at=self.anchor))
                    self.summary.priorities += 1
            started = self.anchor - timedelta(hours=self.rng.randint(20, 26))
            db.session.add(Shift(user_id=user.id, started_at=started, ended_at=started + timedelta(hours=8)))


def _phase_and_groups(school: School) -> tuple[str, list[str]]:
    """'primary' or 'secondary', and the year groups the school's age range covers."""
    try:
        low, high = (int(x) for x in (school.age_range or "").split("-"))
    except ValueError:
        low, high = 4, 11
    groups = (["Nursery"] if low <= 3 else []) + (["Reception"] if low <= 4 < high else [])
    groups += [f"Y{y}" for y in range(max(1, low - 4), min(13, high - 5) + 1)]
    if not groups:
        groups = ["Y12", "Y13"]
    phase = "secondary" if high > 11 else "primary"
    return phase, groups


__all__ = ["DEMO_COLLARS", "DEMO_USERS", "demo_anchor", "real_data_counts", "seed_demo", "seed_demo_command"]
