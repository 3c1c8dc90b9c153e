"""Runs of lowercase letters that spaCy's English tokenizer splits into several tokens
(its special cases for contractions written without the apostrophe: "dont" -> "do",
"nt"). `lemma.word_lemma` looks every other such run up in spaCy's lemma table directly,
without loading spaCy; tests/test_normalize_lemma.py checks this list against the installed
spaCy's tokenizer rules."""

TOKENIZER_SPLITS = frozenset(
    """
aint arent cannot cant cantve couldnt couldntve couldve darent didnt didntve doesnt
doesntve dont dontve gonna gotta hadnt hadntve hasnt havent hed hedve hellve hes howd
howdve howll howllve howre hows howve id idve illve im ima isnt itd itdve itll itllve
ive maynt mayntve mightnt mightntve mightve mustnt mustntve mustve neednt needntve notve
oughtnt oughtntve shant shantve shedve shellve shes shouldnt shouldntve shouldve thatd
thatdve thatll thatllve thats thered theredve therell therellve therere theres thereve
thesed thesedve thesell thesellve thesere theseve theyd theydve theyll theyllve theyre
theyve thisd thisdve thisll thisllve thiss thosed thosedve thosell thosellve thosere
thoseve wasnt wed wedve wellve werent weve whatd whatdve whatll whatllve whatre whats
whatve whend whendve whenll whenllve whenre whens whenve whered wheredve wherell
wherellve wherere wheres whereve whod whodve wholl whollve whos whove whyd whydve whyll
whyllve whyre whys whyve wont wontve wouldnt wouldntve wouldve yall youd youdve youll
youllve youre youve
    """.split()
)
