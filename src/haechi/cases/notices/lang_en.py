"""English notice texts (Telegram, the DSA, and English versions of the Korean requests)."""

from __future__ import annotations

TITLES = {
    "telegram_abuse": "Report of non-consensual sexual deepfake content",
    "telegram_stopca": "Report of child sexual abuse material (synthetic)",
    "kcsc": "Request for a correction order (deletion or access blocking): sexual false video "
    "material",
    "dscvsc": "Request for deletion support: synthesised or edited sexual material",
    "dsa": "Notice of illegal content under Article 16 of Regulation (EU) 2022/2065 (Digital "
    "Services Act)",
}

GREETINGS = {
    "telegram_abuse": "Dear Telegram moderation team,",
    "telegram_stopca": "Dear Telegram moderation team,",
    "kcsc": "To the Korea Communications Standards Commission,",
    "dscvsc": "To the Digital Sex Crime Victim Support Center,",
    "dsa": "Dear Sir or Madam,",
}

INTROS = {
    "telegram_abuse": "The content listed below was published on Telegram without the consent "
    "of the person it shows. It is sexual material synthesised or edited from that person's "
    "images (a sexual deepfake).",
    "telegram_stopca": "The content listed below shows a minor in synthetic sexual material. It "
    "is child sexual abuse material whether or not the images are real.",
    "kcsc": "The information listed below is false video material: a person's face or body "
    "edited, composited or processed, against their will, into a form that can cause sexual "
    "desire or shame. It is illegal information.",
    "dscvsc": "The posts listed below carry sexual material synthesised or edited from the "
    "victim's images against their will. With the victim's consent we ask for deletion support.",
    "dsa": "We notify you of the content listed below, which is illegal, so that you can act on "
    "it under Article 16 of the Digital Services Act.",
}

ACTIONS = {
    "telegram_abuse": "Remove the content listed and the channels, groups, bots and accounts "
    "that exist to distribute it; keep the associated data available for a lawful request from "
    "law enforcement.",
    "telegram_stopca": "Remove the content listed without delay and the channels, groups, bots "
    "and accounts distributing it; preserve the associated data for law enforcement.",
    "kcsc": "Deletion, or access blocking where the service is hosted abroad (Information "
    "Network Act Art. 44-7).",
    "dscvsc": "Deletion support for the posts listed, and periodic monitoring for re-uploads.",
    "dsa": "Removal of, or disabling of access to, the content listed.",
}

STATUTES = {
    "art14_2": "Act on Special Cases Concerning the Punishment of Sexual Crimes (Republic of "
    "Korea), Article 14-2 (distribution of false video material): creating and distributing "
    "such material, and since October 2024 possessing, purchasing, storing or viewing it, are "
    "criminal offences.",
    "child_youth_11": "Act on the Protection of Children and Youth against Sex Offenses "
    "(Republic of Korea), Article 11: producing and distributing child or youth sexual "
    "exploitation material, which includes representations clearly recognisable as minors.",
    "network_44_7": "Act on Promotion of Information and Communications Network Utilization "
    "and Information Protection (Republic of Korea), Article 44-7 (prohibition of the "
    "distribution of illegal information).",
    "svpa_7_3": "Sexual Violence Prevention and Victims Protection Act (Republic of Korea), "
    "Article 7-3: the State's support for deleting such material for victims.",
    "eu_2024_1385": "Directive (EU) 2024/1385 on combating violence against women and "
    "domestic violence, Article 5: non-consensual sharing of intimate or manipulated material.",
    "eu_2011_93": "Directive 2011/93/EU on combating the sexual abuse and sexual exploitation "
    "of children and child pornography, Articles 3 to 7.",
    "tg_rules": "Telegram's own rules list the non-consensual publication of sexual materials "
    "as prohibited illegal content.",
}

TEXT = {
    "subject": "{title}: case {ref}, {n} item(s)",
    "items_header": "Content concerned ({n}):",
    "link": "Link",
    "chat_id": "Telegram chat id",
    "message_id": "Message id",
    "posted": "Posted",
    "captured": "Captured",
    "file": "File SHA-256",
    "legal_header": "Why this content is illegal:",
    "extra_basis": "Further legal basis given by the notifier:",
    "action_header": "Requested action:",
    "reupload_request": "Please also prevent re-uploads of the same files (the SHA-256 hashes "
    "above identify them).",
    "victim_header": "Person concerned:",
    "victim_consented": "The person concerned ({labels}) has consented to this request. "
    "Documents proving their identity are available to you on request; they are not included "
    "here, to protect them.",
    "victim_identity": "{label}: {identity}",
    "victim_minor": "The person concerned is a minor.",
    "proactive": "This notice is made on our own initiative (proactive detection).",
    "notifier_header": "Notifier:",
    "notifier_withheld": "The notifier's name and e-mail address are not given: this notice "
    "concerns child sexual abuse offences (Directive 2011/93/EU, Articles 3 to 7), for which "
    "Article 16(2)(c) does not require them.",
    "good_faith": "I confirm my bona fide belief that the information and allegations "
    "contained in this notice are accurate and complete.",
    "no_images": "No images or videos are attached to this notice: the links, identifiers and "
    "hashes above identify the content.",
    "reference": "Our reference: case {ref}, notice {notice}. Please quote it in your reply.",
    "closing": "Sincerely,",
    "dsa_a": "(a) Why the content is illegal",
    "dsa_b": "(b) Exact electronic location of the content",
    "dsa_c": "(c) Name and e-mail address of the notifier",
    "dsa_d": "(d) Statement of good faith",
    "contact_name": "Name",
    "contact_org": "Organisation",
    "contact_email": "E-mail",
    "contact_phone": "Telephone",
}
