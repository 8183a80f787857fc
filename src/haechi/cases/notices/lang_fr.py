"""Textes des notifications en français (Telegram et son représentant légal dans l'UE, le DSA)."""

from __future__ import annotations

TITLES = {
    "telegram_abuse": "Signalement de contenus sexuels truqués (deepfakes) diffusés sans "
    "consentement",
    "telegram_stopca": "Signalement de contenus pédocriminels (images de synthèse)",
    "kcsc": "Demande de mesure corrective (suppression ou blocage de l'accès) : faux contenus "
    "vidéo à caractère sexuel",
    "dscvsc": "Demande d'aide à la suppression : contenus sexuels de synthèse ou retouchés",
    "dsa": "Notification de contenu illicite au titre de l'article 16 du règlement (UE) "
    "2022/2065 (règlement sur les services numériques)",
}

GREETINGS = {
    "telegram_abuse": "Madame, Monsieur,",
    "telegram_stopca": "Madame, Monsieur,",
    "kcsc": "À l'attention de la Korea Communications Standards Commission,",
    "dscvsc": "À l'attention du Digital Sex Crime Victim Support Center,",
    "dsa": "Madame, Monsieur,",
}

INTROS = {
    "telegram_abuse": "Les contenus ci-dessous ont été publiés sur Telegram sans le "
    "consentement de la personne représentée. Il s'agit de contenus sexuels fabriqués ou "
    "retouchés à partir de ses images (deepfake à caractère sexuel).",
    "telegram_stopca": "Les contenus ci-dessous représentent un mineur dans des images "
    "sexuelles de synthèse. Ce sont des contenus pédocriminels, que les images soient réelles "
    "ou non.",
    "kcsc": "Les informations ci-dessous sont de faux contenus vidéo : le visage ou le corps "
    "d'une personne modifié, combiné ou transformé contre sa volonté sous une forme propre à "
    "susciter le désir sexuel ou la honte. Ce sont des informations illicites.",
    "dscvsc": "Les publications ci-dessous contiennent des contenus sexuels fabriqués ou "
    "retouchés à partir des images de la victime contre sa volonté. Avec le consentement de la "
    "victime, nous demandons une aide à la suppression.",
    "dsa": "Nous vous notifions les contenus ci-dessous, qui sont illicites, afin que vous "
    "puissiez agir conformément à l'article 16 du règlement sur les services numériques.",
}

ACTIONS = {
    "telegram_abuse": "Retirer les contenus signalés ainsi que les canaux, groupes, bots et "
    "comptes destinés à les diffuser ; conserver les données associées pour une réquisition "
    "légale des autorités.",
    "telegram_stopca": "Retirer sans délai les contenus signalés ainsi que les canaux, groupes, "
    "bots et comptes qui les diffusent ; conserver les données associées pour les autorités.",
    "kcsc": "Suppression ou, lorsque le service est hébergé à l'étranger, blocage de l'accès "
    "(loi sur les réseaux d'information, art. 44-7).",
    "dscvsc": "Aide à la suppression des publications signalées et surveillance périodique des "
    "nouvelles mises en ligne.",
    "dsa": "Retrait des contenus signalés ou blocage de l'accès à ces contenus.",
}

STATUTES = {
    "art14_2": "Loi sur les cas particuliers concernant la répression des crimes sexuels "
    "(République de Corée), article 14-2 (diffusion de faux contenus vidéo) : la fabrication et "
    "la diffusion de tels contenus et, depuis octobre 2024, leur détention, achat, stockage ou "
    "visionnage sont des infractions pénales.",
    "child_youth_11": "Loi sur la protection des enfants et des adolescents contre les "
    "infractions sexuelles (République de Corée), article 11 : production et diffusion de "
    "contenus d'exploitation sexuelle de mineurs, y compris les représentations clairement "
    "identifiables comme des mineurs.",
    "network_44_7": "Loi sur la promotion de l'utilisation des réseaux d'information et de "
    "communication et la protection de l'information (République de Corée), article 44-7 "
    "(interdiction de la diffusion d'informations illicites).",
    "svpa_7_3": "Loi sur la prévention des violences sexuelles et la protection des victimes "
    "(République de Corée), article 7-3 : aide de l'État à la suppression de ces contenus pour "
    "les victimes.",
    "eu_2024_1385": "Directive (UE) 2024/1385 sur la lutte contre la violence à l'égard des "
    "femmes et la violence domestique, article 5 : partage non consenti de matériel intime ou "
    "manipulé.",
    "eu_2011_93": "Directive 2011/93/UE relative à la lutte contre les abus sexuels et "
    "l'exploitation sexuelle des enfants, ainsi que la pédopornographie, articles 3 à 7.",
    "tg_rules": "Les règles de Telegram elles-mêmes qualifient la publication non consentie de "
    "contenus sexuels de contenu illicite interdit.",
}

TEXT = {
    "subject": "{title} : dossier {ref}, {n} élément(s)",
    "items_header": "Contenus concernés ({n}) :",
    "link": "Lien",
    "chat_id": "Identifiant de la conversation Telegram",
    "message_id": "Identifiant du message",
    "posted": "Publié le",
    "captured": "Collecté le",
    "file": "SHA-256 du fichier",
    "legal_header": "Pourquoi ces contenus sont illicites :",
    "extra_basis": "Autre fondement juridique indiqué par l'auteur de la notification :",
    "action_header": "Mesure demandée :",
    "reupload_request": "Merci d'empêcher également toute nouvelle mise en ligne des mêmes "
    "fichiers (identifiés par les empreintes SHA-256 ci-dessus).",
    "victim_header": "Personne concernée :",
    "victim_consented": "La personne concernée ({labels}) a consenti à cette demande. Les "
    "pièces justifiant de son identité sont disponibles sur demande ; elles ne figurent pas "
    "ici, pour la protéger.",
    "victim_identity": "{label} : {identity}",
    "victim_minor": "La personne concernée est mineure.",
    "proactive": "Cette notification est faite de notre propre initiative (détection proactive).",
    "notifier_header": "Auteur de la notification :",
    "notifier_withheld": "Le nom et l'adresse électronique de l'auteur de la notification ne "
    "sont pas indiqués : la notification concerne des infractions d'abus sexuels sur enfants "
    "(directive 2011/93/UE, articles 3 à 7), pour lesquelles l'article 16, paragraphe 2, "
    "point c), ne les exige pas.",
    "good_faith": "Je déclare croire de bonne foi que les informations et les allégations "
    "contenues dans la présente notification sont exactes et complètes.",
    "no_images": "Aucune image ni vidéo n'est jointe à cette notification : les liens, "
    "identifiants et empreintes ci-dessus identifient les contenus.",
    "reference": "Notre référence : dossier {ref}, notification {notice}. Merci de la rappeler "
    "dans votre réponse.",
    "closing": "Veuillez agréer nos salutations distinguées.",
    "dsa_a": "a) Raisons pour lesquelles le contenu est illicite",
    "dsa_b": "b) Localisation électronique exacte du contenu",
    "dsa_c": "c) Nom et adresse électronique de l'auteur de la notification",
    "dsa_d": "d) Déclaration de bonne foi",
    "contact_name": "Nom",
    "contact_org": "Organisation",
    "contact_email": "Courriel",
    "contact_phone": "Téléphone",
}
