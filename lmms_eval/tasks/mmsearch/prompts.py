"""MMSearch's prompts, verbatim (CaraJ7/MMSearch @ d340f3f ``prompts/prompt.py`` and
``prompts/prompt_w_imagesearch.py``; facts kept as text): the requery round (stage 1) and the
answer round (stage 3), each for a text-only query and for a query with an image (which also
shows the image search result). ``<image>`` marks where an image goes (``DEFAULT_IMAGE_TOKEN``).
"""

REQUERY_TEXT = (
    "You are a helpful assistant. I am giving you a question, which cannot be solved without external"
    " knowledge.\n"
    "Assume you have access to a text-only search engine (e.g., google). Please raise a query to the "
    "search engine to search for what is useful for you to answer the question correctly. Your query "
    "needs to consider the attribute of the query to search engine. \n"
    "Here are 3 examples:\n"
    "Question: Did Zheng Xiuwen wear a knee pad in the women's singles tennis final in 2024 Paris "
    "Olympics?\n"
    "Query to the search engine: Images of Zheng Xiuwen in the women's singles tennis final in 2024 "
    "Paris Olympics\n"
    "\n"
    "Question: When will Apple release iPhone16?\n"
    "Query to the search engine: iPhone 16 release date \n"
    "\n"
    "Question: Who will sing a French song at the Olympic Games closing ceremony?\n"
    "Query to the search engine: Singers at the Olympic Games closing ceremony, French song\n"
    "\n"
    "Question: {question} \n"
    "Query to the search engine (do not involve any explanation): "
)

REQUERY_IMAGE = (
    "You are a helpful assistant. I am giving you a question including an image, which cannot be "
    "solved without external knowledge.\n"
    "Assume you have access to a search engine (e.g., google). Please raise a query to the search "
    "engine to search for what is useful for you to answer the question correctly. You need to "
    "consider the characteristics of asking questions to search engines when formulating your "
    "questions. \n"
    "You are also provided with the search result of the image in the question. You should leverage "
    "the image search result to raise the text query.\n"
    "Here are 3 examples:\n"
    "Question: Did Zheng Xiuwen wear a knee pad in the women's singles tennis final in 2024 Paris "
    "Olympics?\n"
    "Query to the search engine: Images of Zheng Xiuwen in the women's singles tennis final in 2024 "
    "Paris Olympics\n"
    "\n"
    "Question: When will Apple release iPhone16?\n"
    "Query to the search engine: iPhone 16 release date \n"
    "\n"
    "Question: Who will sing a French song at the Olympic Games closing ceremony?\n"
    "Query to the search engine: Singers at the Olympic Games closing ceremony, French song\n"
    "\n"
    "Question: {question} \n"
    "The image search result is: {image_search_result}\n"
    "Query to the search engine (do not involve any explanation): "
)

ANSWER_TEXT = (
    "You are a helpful assistant. I am giving you a question and {rerank_num} website information "
    "related to the question. \n"
    "Please follow these guidelines when formulating your answer:\n"
    '1. If the question contains a false premise or assumption, answer "invalid question".\n'
    "2. When answering questions about dates, use the yyyy-mm-dd format.\n"
    "3. Answer the question with as few words as you can.\n"
    "\n"
    "You should now read the information of the website and answer the question.\n"
    "The website informations is {website_information}\n"
    "The question is: {question}.\n"
    "Please directly output the answer without any explanation: "
)

ANSWER_IMAGE = (
    "You are a helpful assistant. I am giving you a question including an image. You are provided "
    "with the search result of the image in the question. And you are provided with {rerank_num} "
    "website information related to the question. \n"
    "Please follow these guidelines when formulating your answer:\n"
    '1. If the question contains a false premise or assumption, answer "invalid question".\n'
    "2. When answering questions about dates, use the yyyy-mm-dd format.\n"
    "3. Answer the question with as few words as you can.\n"
    "\n"
    "You should now read the information of the website and answer the question.\n"
    "The website informations is {website_information}\n"
    "The image search result is: {image_search_result}\n"
    "The question is: {question}.\n"
    "Please directly output the answer without any explanation: "
)
